import ArgumentParser
struct SimulateCommand: ParsableCommand {}
struct ForecastCommand: ParsableCommand {}
struct DemoCommand: ParsableCommand {}
