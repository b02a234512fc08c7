// Compile-time stand-ins for the vendor printer SDKs (README.md): the SDK compiles against
// them with compileOnly when the real SDKs are not in android/vendor-libs. Never packaged:
// nothing depends on this module with implementation or api.
plugins {
    alias(libs.plugins.android.library)
}

android {
    namespace = "io.poscore.vendorstubs"
    compileSdk = libs.versions.compileSdk.get().toInt()

    defaultConfig {
        minSdk = libs.versions.minSdk.get().toInt()
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}
