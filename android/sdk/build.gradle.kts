import java.io.ByteArrayOutputStream
import javax.inject.Inject
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

// The poscore SDK for Android: the Rust core (libposcore_ffi.so, built here with cargo-ndk for
// every ABI), its uniffi-generated Kotlin bindings (generated here), the Kotlin facade
// (io.poscore.sdk.PosCore), the Android start-up (io.poscore.sdk.android.PosCoreAndroid) and
// the vendor printer adapters (io.poscore.sdk.vendor).
//
// Needs on the build machine: the Android SDK with NDK r28 (ndkVersion below), a Rust
// toolchain with the Android targets (rustup target add aarch64-linux-android
// armv7-linux-androideabi x86_64-linux-android), and cargo-ndk 4 (cargo install cargo-ndk).

plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
}

/** The repository root: the Cargo workspace and the uniffi/ scripts. */
val repoRoot: File = rootProject.projectDir.parentFile

/** The cargo profile of the .so files (gradle.properties: poscore.rustProfile). */
val rustProfile: String = providers.gradleProperty("poscore.rustProfile").getOrElse("release")

/** The ABIs the SDK ships: cargo-ndk's names are Android's ABI names. */
val androidAbis = listOf("arm64-v8a", "armeabi-v7a", "x86_64")

android {
    namespace = "io.poscore.sdk"
    compileSdk = libs.versions.compileSdk.get().toInt()
    ndkVersion = libs.versions.ndk.get()

    defaultConfig {
        minSdk = libs.versions.minSdk.get().toInt()
        // JNA and the generated bindings must survive R8 in the apps that use the SDK.
        consumerProguardFiles("consumer-rules.pro")
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    lint {
        // The generated bindings (added below as generated sources) are not linted.
        checkGeneratedSources = false
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

// ---- Vendor printer SDKs ---------------------------------------------------------------------
// Sunmi printerlibrary, PAX NeptuneLite and Landi uSDK are not on Maven Central; integrators get
// them from the OEMs (android/vendor-libs/README.md) and put them in android/vendor-libs/.
// The SDK only compiles against them (compileOnly): the app that runs on those terminals
// packages them. Without them (or with -Pposcore.vendorStubs=true) the SDK compiles against
// :vendor-stubs, the same signatures, never packaged either.
val vendorJars = fileTree(rootProject.file("vendor-libs")) { include("*.jar") }
val useVendorStubs = providers.gradleProperty("poscore.vendorStubs").map { it.toBoolean() }.getOrElse(vendorJars.isEmpty)

dependencies {
    // JNA as an AAR: it carries libjnidispatch.so for every Android ABI (5.17.0: 16 KB-safe).
    // api: the generated bindings expose JNA types (RustBuffer extends Structure).
    api(libs.jna) {
        artifact { type = "aar" }
    }
    // api: the facade exposes suspend functions and a SharedFlow; Dispatchers.Main on Android.
    api(libs.kotlinx.coroutines.android)

    if (useVendorStubs) compileOnly(project(":vendor-stubs")) else compileOnly(vendorJars)
}

// ---- Rust: libposcore_ffi.so for each ABI, and the Kotlin bindings ---------------------------

/** The Rust sources the native library and the bindings are made from. */
val rustSources: FileCollection = files(repoRoot.resolve("Cargo.toml"), repoRoot.resolve("Cargo.lock")) +
    fileTree(repoRoot.resolve("rust")) { exclude("**/target/**") } +
    fileTree(repoRoot.resolve("uniffi")) { exclude("**/target/**") }

/**
 * Builds libposcore_ffi.so for each ABI with cargo-ndk, aligned for 16 KB pages, and checks
 * that alignment with the NDK's llvm-readelf.
 *
 * NDK r28+ links with 16 KB max-page-size by default; for older NDKs the linker flag is set
 * per target (CARGO_TARGET_<TRIPLE>_RUSTFLAGS; a RUSTFLAGS in the environment would override
 * it, which the check below would catch).
 */
abstract class CargoNdkTask @Inject constructor(private val exec: ExecOperations) : DefaultTask() {
    /** The Cargo workspace root. */
    @get:Internal
    abstract val workspace: DirectoryProperty

    /** The Rust sources (for up-to-date checks). */
    @get:InputFiles
    @get:PathSensitive(PathSensitivity.RELATIVE)
    abstract val sources: ConfigurableFileCollection

    /** Android ABI names (cargo-ndk -t). */
    @get:Input
    abstract val abis: ListProperty<String>

    /** release or debug. */
    @get:Input
    abstract val profile: Property<String>

    /** The API level linked against (minSdk). */
    @get:Input
    abstract val platform: Property<Int>

    /** The NDK. */
    @get:Internal
    abstract val ndkDirectory: DirectoryProperty

    /** jniLibs layout: <abi>/libposcore_ffi.so. */
    @get:OutputDirectory
    abstract val outputDir: DirectoryProperty

    @TaskAction
    fun build() {
        val out = outputDir.get().asFile
        out.deleteRecursively()
        out.mkdirs()
        val ndk = ndkDirectory.get().asFile
        exec.exec {
            workingDir = workspace.get().asFile
            environment("ANDROID_NDK_HOME", ndk.absolutePath)
            for (triple in listOf("aarch64-linux-android", "armv7-linux-androideabi", "x86_64-linux-android", "i686-linux-android")) {
                val key = "CARGO_TARGET_" + triple.uppercase().replace('-', '_') + "_RUSTFLAGS"
                environment(key, "-C link-arg=-Wl,-z,max-page-size=16384")
            }
            val args = mutableListOf("cargo", "ndk")
            abis.get().forEach { args += listOf("-t", it) }
            args += listOf("--platform", platform.get().toString(), "-o", out.absolutePath, "build", "--locked", "-p", "poscore-ffi")
            if (profile.get() == "release") args += "--release"
            commandLine(args)
        }
        checkPageAlignment(ndk, out)
    }

    /** Every LOAD segment of every .so must be aligned to at least 16 KB. */
    private fun checkPageAlignment(ndk: File, libs: File) {
        val readelf = ndk.resolve("toolchains/llvm/prebuilt").listFiles()?.firstOrNull()?.resolve("bin/llvm-readelf")
            ?: throw GradleException("llvm-readelf not found in $ndk")
        val sos = libs.walkTopDown().filter { it.name.endsWith(".so") }.toList()
        if (sos.size != abis.get().size) throw GradleException("cargo-ndk made ${sos.size} libraries for ${abis.get().size} ABIs: $sos")
        for (so in sos) {
            val text = ByteArrayOutputStream()
            exec.exec {
                commandLine(readelf.absolutePath, "-lW", so.absolutePath)
                standardOutput = text
            }
            val aligns = text.toString().lines().map { it.trim() }.filter { it.startsWith("LOAD") }.map { it.split(Regex("\\s+")).last() }
            val small = aligns.filter { it.removePrefix("0x").toLong(16) < 16_384 }
            if (aligns.isEmpty() || small.isNotEmpty()) {
                throw GradleException("$so: LOAD segments aligned to $aligns; 16 KB pages need 0x4000 (NDK r28+, or -Wl,-z,max-page-size=16384)")
            }
        }
    }
}

/** Generates the Kotlin bindings with uniffi/generate-kotlin.sh (from the host build of the library). */
abstract class UniffiBindingsTask @Inject constructor(private val exec: ExecOperations) : DefaultTask() {
    /** The Cargo workspace root. */
    @get:Internal
    abstract val workspace: DirectoryProperty

    /** The Rust sources (for up-to-date checks). */
    @get:InputFiles
    @get:PathSensitive(PathSensitivity.RELATIVE)
    abstract val sources: ConfigurableFileCollection

    /** Where io/poscore/ffi/poscore_ffi.kt goes. */
    @get:OutputDirectory
    abstract val outputDir: DirectoryProperty

    @TaskAction
    fun generate() {
        val root = workspace.get().asFile
        exec.exec {
            workingDir = root
            commandLine(root.resolve("uniffi/generate-kotlin.sh").absolutePath, outputDir.get().asFile.absolutePath)
        }
    }
}

val cargoNdkBuild = tasks.register<CargoNdkTask>("cargoNdkBuild") {
    group = "rust"
    description = "Builds libposcore_ffi.so for ${androidAbis.joinToString()} with cargo-ndk (16 KB pages)."
    workspace.set(repoRoot)
    sources.from(rustSources)
    abis.set(androidAbis)
    profile.set(rustProfile)
    platform.set(libs.versions.minSdk.get().toInt())
    ndkDirectory.set(androidComponents.sdkComponents.ndkDirectory)
    outputDir.set(layout.buildDirectory.dir("rust/jniLibs"))
}

val generateUniffiBindings = tasks.register<UniffiBindingsTask>("generateUniffiBindings") {
    group = "rust"
    description = "Generates the uniffi Kotlin bindings (io.poscore.ffi) with uniffi/generate-kotlin.sh."
    workspace.set(repoRoot)
    sources.from(rustSources)
    outputDir.set(layout.buildDirectory.dir("generated/uniffi"))
}

androidComponents {
    onVariants { variant ->
        // The .so files join the variant's jniLibs: cargoNdkBuild runs before merge*JniLibFolders.
        variant.sources.jniLibs?.addGeneratedSourceDirectory(cargoNdkBuild, CargoNdkTask::outputDir)
        // The bindings join the variant's Kotlin sources: generated before compile*Kotlin.
        variant.sources.kotlin?.addGeneratedSourceDirectory(generateUniffiBindings, UniffiBindingsTask::outputDir)
    }
}
