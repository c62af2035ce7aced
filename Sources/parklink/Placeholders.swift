import ArgumentParser
struct SimulateCommand: ParsableCommand {}
struct ForecastCommand: ParsableCommand {}
