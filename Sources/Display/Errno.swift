#if canImport(Glibc)
import Glibc
#endif

/// `strerror` as a Swift string, for error contexts.
func errnoText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}
