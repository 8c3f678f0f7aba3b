// CarChain SDK for Android (org.carchain:carchain-sdk).
//
// Build: ./gradlew assembleRelease (needs the Android SDK + NDK and `cargo install cargo-ndk`;
// the Rust targets: rustup target add aarch64-linux-android armv7-linux-androideabi
// x86_64-linux-android). The `cargoNdk` task builds libcarchain_ffi.so with the
// size-tuned `release-android` profile, 16 KB page alignment, and `generateBindings`
// regenerates the Kotlin sources with the workspace's uniffi-bindgen.
plugins {
    id("com.android.library") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.1.21"
    `maven-publish`
}

val workspace: File = rootDir.parentFile
val jniLibsOut = layout.buildDirectory.dir("rustJniLibs")
val kotlinOut = layout.buildDirectory.dir("generated/uniffi")
val abis = listOf("arm64-v8a", "armeabi-v7a", "x86_64")

android {
    namespace = "org.carchain.sdk"
    compileSdk = 35
    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
        ndk { abiFilters += abis }
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    sourceSets["main"].jniLibs.srcDir(jniLibsOut)
    sourceSets["main"].java.srcDir(kotlinOut)
    publishing {
        singleVariant("release") { withSourcesJar() }
    }
}

kotlin { jvmToolchain(17) }

dependencies {
    implementation("net.java.dev.jna:jna:5.18.1@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.10.2")
}

val cargoNdk by tasks.registering(Exec::class) {
    description = "Builds libcarchain_ffi.so for every ABI with cargo-ndk."
    workingDir = workspace
    environment("RUSTFLAGS", "-C link-arg=-Wl,-z,max-page-size=16384")
    commandLine(
        listOf("cargo", "ndk") + abis.flatMap { listOf("-t", it) } + listOf(
            "--platform", "24",
            "-o", jniLibsOut.get().asFile.absolutePath,
            "build", "--locked", "-p", "carchain-ffi", "--lib", "--profile", "release-android",
        ),
    )
}

val generateBindings by tasks.registering(Exec::class) {
    description = "Generates the Kotlin sources of the CarChain bindings."
    dependsOn(cargoNdk)
    workingDir = workspace
    val library = jniLibsOut.get().file("arm64-v8a/libcarchain_ffi.so").asFile.absolutePath
    commandLine(
        "cargo", "run", "--locked", "-p", "carchain-ffi", "--bin", "uniffi-bindgen", "--",
        "generate", "--library", library, "--language", "kotlin",
        "--out-dir", kotlinOut.get().asFile.absolutePath, "--no-format",
    )
}

tasks.named("preBuild") { dependsOn(generateBindings) }

publishing {
    publications {
        register<MavenPublication>("release") {
            groupId = "org.carchain"
            artifactId = "carchain-sdk"
            version = "0.1.0"
            afterEvaluate { from(components["release"]) }
        }
    }
}
