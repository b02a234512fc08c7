//! The job protocol over a vendor SDK (Sunmi, PAX, Landi family, Lakala): the status is read
//! before the job and a printer in a known fault is refused; the SDK's print call runs on a
//! blocking thread under a watchdog, because vendor callbacks are known never to come on
//! paper-out (Sunmi P1 4G, reference/printers.md §1); its returned code is mapped with the
//! vendor tables, and only a printable code makes the job printed.
//!
//! A watchdog expiry cannot cancel the SDK call: its thread stays blocked until the SDK
//! returns, and the job is reported [`PrintError::NotConfirmed`] meanwhile.

use std::sync::Arc;
use std::time::Duration;

use crate::condition::Condition;
use crate::job::{PrintError, Stage};
use crate::vendor::{Vendor, VendorCode, VendorTables};

/// A printer behind a vendor SDK. Calls may block until the device answers.
pub trait VendorDevice: Send + Sync + 'static {
    /// What one job is for this SDK (a slip as text lines, a bitmap, a buffer of calls…).
    type Job: Send + 'static;

    /// The device's status now, as the vendor's raw code; `Err` when the SDK call failed.
    fn status(&self) -> Result<i32, String>;

    /// Prints a job and returns the vendor's raw code after it; `Err` when the SDK call failed.
    fn print(&self, job: Self::Job) -> Result<i32, String>;

    /// Whose codes these are.
    fn vendor(&self) -> Vendor;
}

/// Timeouts of [`VendorPrinter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorConfig {
    /// Bounds the print call. Default 60 s.
    pub watchdog: Duration,
    /// Bounds the status call. Default 5 s.
    pub status_timeout: Duration,
}

impl Default for VendorConfig {
    fn default() -> Self {
        VendorConfig {
            watchdog: Duration::from_secs(60),
            status_timeout: Duration::from_secs(5),
        }
    }
}

/// The job protocol over a [`VendorDevice`].
pub struct VendorPrinter<D: VendorDevice> {
    device: Arc<D>,
    tables: VendorTables,
    config: VendorConfig,
}

impl<D: VendorDevice> VendorPrinter<D> {
    /// A printer over `device`, reading its codes with `tables`.
    pub fn new(device: Arc<D>, tables: VendorTables, config: VendorConfig) -> VendorPrinter<D> {
        VendorPrinter {
            device,
            tables,
            config,
        }
    }

    /// The device.
    pub fn device(&self) -> &Arc<D> {
        &self.device
    }

    /// The device's status, explained. A printer in a fault is `Ok` with that condition;
    /// `Err` only when the status could not be read.
    pub async fn status(&self) -> Result<VendorCode, PrintError> {
        let device = Arc::clone(&self.device);
        let code = self
            .call(
                self.config.status_timeout,
                Stage::BeforeSend,
                "status",
                move || device.status(),
            )
            .await?;
        Ok(self.tables.explain(self.device.vendor(), code))
    }

    /// Prints `job`: `Ok` only when the SDK returned a printable code.
    pub async fn print(&self, job: D::Job) -> Result<(), PrintError> {
        let before = self.status().await?;
        if !before.condition.can_print() {
            log::warn!("vendor printer refused: {:?}", before.message().1);
            return Err(PrintError::Refused(before.condition));
        }
        let device = Arc::clone(&self.device);
        let code = match self
            .call(self.config.watchdog, Stage::Sending, "print", move || {
                device.print(job)
            })
            .await
        {
            Err(PrintError::NotConfirmed { waited }) => {
                log::warn!(
                    "vendor print call did not return within {waited:?} (its callback never came)"
                );
                return Err(PrintError::NotConfirmed { waited });
            }
            other => other?,
        };
        let after = self.tables.explain(self.device.vendor(), code);
        if after.condition.can_print() {
            Ok(())
        } else {
            Err(PrintError::Failed {
                condition: after.condition,
                stage: Stage::AwaitingConfirmation,
                detail: after.message().1,
            })
        }
    }

    /// Runs an SDK call on a blocking thread, bounded by `limit`.
    async fn call<F>(
        &self,
        limit: Duration,
        stage: Stage,
        what: &str,
        f: F,
    ) -> Result<i32, PrintError>
    where
        F: FnOnce() -> Result<i32, String> + Send + 'static,
    {
        let vendor = self.device.vendor().name();
        match tokio::time::timeout(limit, tokio::task::spawn_blocking(f)).await {
            Err(_) if stage == Stage::BeforeSend => Err(PrintError::Failed {
                condition: Condition::CommunicationError,
                stage,
                detail: format!("{vendor} {what} call did not return within {limit:?}"),
            }),
            Err(_) => Err(PrintError::NotConfirmed { waited: limit }),
            Ok(Err(join)) => Err(PrintError::Failed {
                condition: Condition::Unknown,
                stage,
                detail: format!("{vendor} {what} call failed: {join}"),
            }),
            Ok(Ok(Err(message))) => Err(PrintError::Failed {
                condition: Condition::CommunicationError,
                stage,
                detail: format!("{vendor} {what} call failed: {message}"),
            }),
            Ok(Ok(Ok(code))) => Ok(code),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::mpsc;

    use super::*;

    /// A device answering with scripted codes; `block` makes print wait until released.
    struct Fake {
        vendor: Vendor,
        status: Mutex<Vec<Result<i32, String>>>,
        print: Mutex<Vec<Result<i32, String>>>,
        printed: Mutex<Vec<String>>,
        block: Mutex<Option<mpsc::Receiver<()>>>,
    }

    impl Fake {
        fn new(
            vendor: Vendor,
            status: Vec<Result<i32, String>>,
            print: Vec<Result<i32, String>>,
        ) -> Arc<Fake> {
            Arc::new(Fake {
                vendor,
                status: Mutex::new(status),
                print: Mutex::new(print),
                printed: Mutex::new(Vec::new()),
                block: Mutex::new(None),
            })
        }
    }

    impl VendorDevice for Fake {
        type Job = String;

        fn status(&self) -> Result<i32, String> {
            self.status.lock().unwrap().remove(0)
        }

        fn print(&self, job: String) -> Result<i32, String> {
            let block = self.block.lock().unwrap().take();
            if let Some(release) = block {
                // Blocks like an SDK whose callback never comes (until the test ends).
                let _ = release.recv();
                return Ok(0);
            }
            self.printed.lock().unwrap().push(job);
            self.print.lock().unwrap().remove(0)
        }

        fn vendor(&self) -> Vendor {
            self.vendor
        }
    }

    fn printer(device: &Arc<Fake>) -> VendorPrinter<Fake> {
        let config = VendorConfig {
            watchdog: Duration::from_millis(200),
            status_timeout: Duration::from_millis(200),
        };
        VendorPrinter::new(Arc::clone(device), VendorTables::new(), config)
    }

    #[tokio::test]
    async fn a_printable_code_after_the_job_is_printed() {
        let device = Fake::new(Vendor::Sunmi, vec![Ok(1)], vec![Ok(1)]);
        printer(&device).print("slip".into()).await.unwrap();
        assert_eq!(*device.printed.lock().unwrap(), ["slip"]);
    }

    #[tokio::test]
    async fn a_fault_before_the_job_refuses_it_without_printing() {
        let device = Fake::new(Vendor::Landi, vec![Ok(0xF0)], vec![]);
        let error = printer(&device).print("slip".into()).await.unwrap_err();
        assert_eq!(error, PrintError::Refused(Condition::PaperOut));
        assert!(device.printed.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_code_after_the_job_names_the_fault() {
        let device = Fake::new(Vendor::Pax, vec![Ok(0)], vec![Ok(2)]);
        let error = printer(&device).print("slip".into()).await.unwrap_err();
        assert_eq!(error.condition(), Condition::PaperOut);
        assert_eq!(error.stage(), Stage::AwaitingConfirmation);
        assert!(error.to_string().contains("pax code 2"), "{error}");
        // An unknown code is never success.
        let device = Fake::new(Vendor::Pax, vec![Ok(0)], vec![Ok(77)]);
        let error = printer(&device).print("slip".into()).await.unwrap_err();
        assert_eq!(error.condition(), Condition::Unknown);
        assert!(
            error.to_string().contains("unknown fault (code 77)"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn sdk_errors_are_communication_errors() {
        let device = Fake::new(Vendor::Sunmi, vec![Err("service not bound".into())], vec![]);
        let error = printer(&device).print("slip".into()).await.unwrap_err();
        assert_eq!(error.condition(), Condition::CommunicationError);
        assert_eq!(error.stage(), Stage::BeforeSend);
        let device = Fake::new(
            Vendor::Sunmi,
            vec![Ok(1)],
            vec![Err("remote exception".into())],
        );
        let error = printer(&device).print("slip".into()).await.unwrap_err();
        assert_eq!(error.condition(), Condition::CommunicationError);
        assert!(error.to_string().contains("remote exception"));
    }

    #[tokio::test]
    async fn a_print_call_that_never_returns_is_not_confirmed() {
        let device = Fake::new(Vendor::Sunmi, vec![Ok(1), Ok(4)], vec![]);
        let (release, blocked) = mpsc::channel();
        *device.block.lock().unwrap() = Some(blocked);
        let started = std::time::Instant::now();
        let error = printer(&device).print("slip".into()).await.unwrap_err();
        assert_eq!(
            error,
            PrintError::NotConfirmed {
                waited: Duration::from_millis(200)
            }
        );
        assert!(started.elapsed() < Duration::from_secs(2));
        // The status afterwards tells why (here: out of paper).
        let status = printer(&device).status().await.unwrap();
        assert_eq!(status.condition, Condition::PaperOut);
        release.send(()).unwrap();
    }

    #[tokio::test]
    async fn status_explains_the_code() {
        let device = Fake::new(Vendor::Sunmi, vec![Ok(6)], vec![]);
        let status = printer(&device).status().await.unwrap();
        assert_eq!(status.condition, Condition::CoverOpen);
        assert_eq!(status.code, 6);
    }
}
