import org.jetbrains.kotlin.gradle.dsl.JvmTarget

// The cashier app: plain Android views (no AndroidX), the poscore SDK, the vendor printer SDKs.
plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
}

android {
    namespace = "io.poscore.app"
    compileSdk = libs.versions.compileSdk.get().toInt()

    defaultConfig {
        applicationId = "io.poscore.app"
        minSdk = libs.versions.minSdk.get().toInt()
        targetSdk = libs.versions.targetSdk.get().toInt()
        versionCode = 1
        versionName = "0.1.0"
        testInstrumentationRunner = "androidx.test.runner.AndroidJUnitRunner"
        ndk {
            // The ABIs the SDK builds (sdk/build.gradle.kts); JNA ships more, which we drop.
            abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64")
        }
    }

    buildTypes {
        release {
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }

    packaging {
        jniLibs {
            // Native libraries stored uncompressed and page-aligned in the APK (zipalign -P 16
            // in AGP 8.5.1+), so 16 KB-page devices can map them in place.
            useLegacyPackaging = false
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

dependencies {
    implementation(project(":sdk"))
    // The vendor printer SDKs, packaged here (the SDK only compiles against them); see
    // android/vendor-libs/README.md. Without them the app runs with the software printer.
    implementation(fileTree(rootProject.file("vendor-libs")) { include("*.jar") })

    androidTestImplementation(libs.androidx.test.runner)
    androidTestImplementation(libs.androidx.test.ext.junit)
    androidTestImplementation(libs.junit)
}
