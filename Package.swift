// swift-tools-version:6.2
import Foundation
import PackageDescription

// C libraries come from Debian packages; each one is a system-library target named after what it wraps.
func system(_ name: String, _ pkgConfig: String, _ apt: [String]) -> Target {
    .systemLibrary(name: name, path: "Sources/\(name)", pkgConfig: pkgConfig, providers: [.apt(apt)])
}

/// Which libgpiod API the installed header declares: Debian 12 ships libgpiod 1.6 (the v1 API), Debian 13 ships
/// 2.2 (v2, built around `gpiod_chip_request_lines`). Swift cannot test a C macro, so the manifest reads the
/// header the compiler will include and the Buttons target compiles the matching adapter. INTERCOM_LIBGPIOD_API
/// (1 or 2) overrides it, for a header outside the usual places.
func libgpiodV2() -> Bool {
    switch ProcessInfo.processInfo.environment["INTERCOM_LIBGPIOD_API"] {
    case "1": return false
    case "2": return true
    case nil, "": break
    case let other?: fatalError("INTERCOM_LIBGPIOD_API is '\(other)'; it must be 1 or 2 (or unset: read /usr/include/gpiod.h)")
    }
    for header in ["/usr/include/gpiod.h", "/usr/local/include/gpiod.h"] {
        if let text = try? String(contentsOfFile: header, encoding: .utf8) {
            return text.contains("gpiod_chip_request_lines")
        }
    }
    return false
}
let gpiodSettings: [SwiftSetting] = libgpiodV2() ? [.define("LIBGPIOD_V2")] : []

let package = Package(
    name: "intercom",
    products: [
        .executable(name: "intercom", targets: ["IntercomCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        system("CGLib", "glib-2.0", ["libglib2.0-dev"]),
        system("CGStreamer", "gstreamer-webrtc-1.0",
               ["libgstreamer1.0-dev", "libgstreamer-plugins-base1.0-dev", "libgstreamer-plugins-bad1.0-dev"]),
        system("CWebSockets", "libwebsockets", ["libwebsockets-dev", "libwebsockets-evlib-glib"]),
        system("CQRencode", "libqrencode", ["libqrencode-dev"]),
        system("CDrm", "libdrm", ["libdrm-dev"]),
        system("CGpiod", "libgpiod", ["libgpiod-dev"]),
        system("CPangoCairo", "pangocairo", ["libpango1.0-dev", "libcairo2-dev"]),
        system("CYAML", "yaml-0.1", ["libyaml-dev"]),
        system("CSoup", "libsoup-3.0", ["libsoup-3.0-dev", "glib-networking"]),
        // glibc's malloc.h (mallopt, malloc_trim): how the process hands freed memory back.
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        // The only C we write: wrappers for variadic GObject calls Swift cannot make.
        .target(name: "CIntercomShim", dependencies: ["CGStreamer"]),

        // The one GLib main loop thread, the global actor that runs on it, its timers and fd watches.
        .target(name: "MainLoop", dependencies: ["CGLib"]),
        // Core: pure Swift, no C, no adapters.
        .target(name: "DoorCore"),
        .target(name: "Signaling", dependencies: ["DoorCore", "MainLoop", "CWebSockets"]),
        .target(name: "Media", dependencies: ["DoorCore", "MainLoop", "CGStreamer", "CIntercomShim"]),
        .target(name: "Display", dependencies: ["DoorCore", "MainLoop", "CQRencode", "CPangoCairo", "CDrm", "CGStreamer"]),
        .target(name: "Buttons", dependencies: ["DoorCore", "MainLoop", "CGLib", "CGpiod"], swiftSettings: gpiodSettings),
        // The local control socket (`intercom ctl`, home automation, the tests): newline-delimited JSON.
        .target(name: "Control", dependencies: ["DoorCore", "MainLoop", "CGLib"]),
        // Reads the YAML config file (libyaml) into the core's `Configuration`.
        .target(name: "ConfigFile", dependencies: ["DoorCore", "CYAML"]),
        // Ring notifications (webhook, ntfy, Home Assistant) over libsoup 3 on the GLib loop.
        .target(name: "Notify", dependencies: ["DoorCore", "MainLoop", "CSoup",
                                               .product(name: "Crypto", package: "swift-crypto")]),
        // Who may join: room keys, offer/answer MACs, DTLS fingerprint checks (swift-crypto).
        .target(name: "Admission", dependencies: ["DoorCore", .product(name: "Crypto", package: "swift-crypto")]),
        // The door's orchestration: carries out the state machines' actions with the adapters above and feeds
        // them their events. The executable parses options and hands them to `Device`.
        .target(name: "Door", dependencies: ["DoorCore", "MainLoop", "Signaling", "Media", "Display", "Buttons",
                                             "Control", "Notify", "Admission", "CGLib", "CMalloc", "Visits"]),
        // The visit log: rings, outcomes and clip files on the state directory, bounded by size and age.
        .target(name: "Visits", dependencies: ["DoorCore"]),
        .executableTarget(name: "IntercomCLI",
                          dependencies: ["Door", "DoorCore", "MainLoop", "Signaling", "Media", "Display", "Buttons",
                                         "Control", "ConfigFile", "Notify", "CGStreamer",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // Scratch directories, polling and a press recorder that several test targets share.
        .target(name: "TestSupport", dependencies: ["DoorCore", "MainLoop"], path: "Tests/TestSupport"),
        .testTarget(name: "DoorCoreTests", dependencies: ["DoorCore", "TestSupport"]),
        .testTarget(name: "SignalingTests", dependencies: ["Signaling", "DoorCore"]),
        .testTarget(name: "MediaTests", dependencies: ["Media", "MainLoop", "TestSupport"]),
        .testTarget(name: "DisplayTests", dependencies: ["Display", "DoorCore", "MainLoop", "TestSupport"]),
        .testTarget(name: "ButtonsTests", dependencies: ["Buttons", "DoorCore", "TestSupport"], swiftSettings: gpiodSettings),
        .testTarget(name: "ConfigFileTests", dependencies: ["ConfigFile", "DoorCore"]),
        .testTarget(name: "NotifyTests", dependencies: ["Notify", "DoorCore", "MainLoop"]),
        .testTarget(name: "AdmissionTests", dependencies: ["Admission", "DoorCore", "Signaling"]),
        .testTarget(name: "MainLoopTests", dependencies: ["MainLoop"]),
        .testTarget(name: "DoorTests", dependencies: ["Door", "DoorCore", "MainLoop", "Signaling", "Admission", "Control",
                                                  "Media", "Notify", "TestSupport"]),
        .testTarget(name: "VisitsTests", dependencies: ["Visits", "DoorCore", "TestSupport"]),
        .testTarget(name: "ControlTests", dependencies: ["Control", "Buttons", "DoorCore", "MainLoop", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
