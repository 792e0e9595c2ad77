import CGpiod

/// Which libgpiod API this build uses, chosen by Package.swift from the installed header.
public enum GPIOLibrary {
    #if LIBGPIOD_V2
    public static let api = 2
    #else
    public static let api = 1
    #endif

    /// The version of the libgpiod loaded at run time (`gpiod_api_version` in 2.x, `gpiod_version_string` in
    /// 1.x), e.g. "2.2.1": `intercom probe gpio` prints it, so a report says which library drove the buttons.
    public static var version: String {
        #if LIBGPIOD_V2
        String(cString: gpiod_api_version())
        #else
        String(cString: gpiod_version_string())
        #endif
    }
}
