//! The crate's own multi-thread tokio runtime, logging, the panic hook, and the Android
//! glue (JavaVM, thread attachment).
//!
//! Async calls from Kotlin run on this runtime (two workers), not on async-compat's single
//! thread: `run` spawns the work here and hands Kotlin a future that only waits for it.

use std::future::Future;
use std::sync::OnceLock;

use crate::error::PosError;

static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

/// The runtime, started on first use.
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    RUNTIME.get_or_init(|| {
        init_logging();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("poscore-worker")
            .enable_all()
            .on_thread_start(android::attach_current_thread)
            .build()
            .expect("the poscore runtime starts")
    })
}

/// Runs `work` on the runtime; a panic in it becomes [`PosError::Internal`].
pub(crate) async fn run<T: Send + 'static>(
    work: impl Future<Output = Result<T, PosError>> + Send + 'static,
) -> Result<T, PosError> {
    match runtime().spawn(work).await {
        Ok(result) => result,
        Err(join) if join.is_panic() => Err(PosError::internal("a task panicked")),
        Err(_) => Err(PosError::closed()),
    }
}

/// Starts logging once: logcat with the tag `poscore` on Android, stderr on a desktop
/// (level from `POSCORE_LOG`, default `warn`). Also installs the panic hook. Idempotent.
pub(crate) fn init_logging() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        #[cfg(target_os = "android")]
        android_logger::init_once(
            android_logger::Config::default()
                .with_tag("poscore")
                .with_max_level(log::LevelFilter::Info),
        );
        #[cfg(not(target_os = "android"))]
        {
            let _ = env_logger::Builder::from_env(
                env_logger::Env::default().filter_or("POSCORE_LOG", "warn"),
            )
            .try_init();
        }
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            log::error!("panic in poscore: {info}");
            default_hook(info);
        }));
    });
}

#[cfg(target_os = "android")]
mod android {
    //! The JavaVM, captured when Kotlin loads the library with `System.loadLibrary` (JNA's
    //! own loading does not run `JNI_OnLoad`), so runtime threads attach once for good
    //! instead of on every callback.

    use std::ffi::c_void;
    use std::sync::OnceLock;

    use jni::JavaVM;
    use jni::sys::{JNI_VERSION_1_6, jint};

    static VM: OnceLock<JavaVM> = OnceLock::new();

    /// Called by the JVM when `System.loadLibrary("poscore_ffi")` loads the library.
    #[unsafe(no_mangle)]
    pub extern "system" fn JNI_OnLoad(vm: *mut jni::sys::JavaVM, _reserved: *mut c_void) -> jint {
        // SAFETY: the JVM passes a valid JavaVM pointer to JNI_OnLoad.
        if let Ok(vm) = unsafe { JavaVM::from_raw(vm) } {
            let _ = VM.set(vm);
        }
        JNI_VERSION_1_6
    }

    /// Attaches the current (runtime) thread to the JVM for its whole life.
    pub fn attach_current_thread() {
        if let Some(vm) = VM.get() {
            if let Err(e) = vm.attach_current_thread_permanently() {
                log::warn!("could not attach a poscore thread to the JVM: {e}");
            }
        }
    }
}

#[cfg(not(target_os = "android"))]
mod android {
    /// On a desktop JVM, JNA attaches threads as needed.
    pub fn attach_current_thread() {}
}

/// Attaches a thread that calls into Kotlin (the event thread) on Android.
pub(crate) fn attach_current_thread() {
    android::attach_current_thread();
}
