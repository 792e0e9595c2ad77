/// Which libgpiod API this build uses, chosen by Package.swift from the installed header.
public enum GPIOLibrary {
    #if LIBGPIOD_V2
    public static let api = 2
    #else
    public static let api = 1
    #endif
}
