// swift-tools-version:5.9
// CarChain SDK for iOS and macOS. The binary target is built on a Mac by
// ios/build-xcframework.sh, which also copies the generated CarChain.swift into
// Sources/CarChain (both are build outputs, not committed).
import PackageDescription

let package = Package(
    name: "CarChain",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "CarChain", targets: ["CarChain"])
    ],
    targets: [
        .binaryTarget(name: "CarChainFFI", path: "CarChainFFI.xcframework"),
        .target(name: "CarChain", dependencies: ["CarChainFFI"], path: "Sources/CarChain"),
        .testTarget(name: "CarChainTests", dependencies: ["CarChain"], path: "Tests/CarChainTests"),
    ]
)
