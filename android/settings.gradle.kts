// CarChain SDK for Android: the library module (AAR) with the generated Kotlin bindings
// and libcarchain_ffi.so for arm64-v8a, armeabi-v7a and x86_64.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "carchain-sdk"
