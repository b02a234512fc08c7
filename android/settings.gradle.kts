// poscore's Android build: the SDK library (Rust core + uniffi bindings + vendor printer
// adapters), the cashier app with its instrumented tests, and the vendor API stubs the SDK
// compiles against when the real vendor SDKs are not at hand.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "poscore-android"

include(":sdk")
include(":app")
include(":vendor-stubs")
