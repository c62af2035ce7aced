#if canImport(Glibc)
import Glibc
#endif
import CParkLinkShims

/// A joinable OS thread with a name (visible in `top -H` and `gdb`).
///
/// The pipeline's reader, writer and sampler are real threads, not tasks: the reader
/// must never be descheduled behind a cooperative executor busy with database work.
public final class NamedThread: @unchecked Sendable {
    // @unchecked: `handle` is written once in init, before any other thread sees self,
    // and read by `join`, which the owner calls once.
    private var handle = pthread_t()
    private var joined = false
    public let name: String

    private final class Box {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        self.name = name
        let box = Unmanaged.passRetained(Box(name: name, body: body))
        let rc = pthread_create(&handle, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            _ = parklink_pthread_setname(box.name)
            box.body()
            return nil
        }, box.toOpaque())
        precondition(rc == 0, "pthread_create(\(name)): \(rc)")
    }

    /// Waits for the thread to finish. Call once.
    public func join() {
        guard !joined else { return }
        joined = true
        pthread_join(handle, nil)
    }
}
