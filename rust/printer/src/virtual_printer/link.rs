//! A slow serial link: at a given baud rate every byte takes 10 bit times (8N1), in each
//! direction. Received bytes are taken in small slices and each slice is held back until
//! it would have arrived, so a `DLE EOT` deep in a long job is answered when it "arrives".

use std::time::Duration;

use tokio::time::Instant;

/// One direction of a link with an optional baud rate.
#[derive(Debug, Clone)]
pub struct Pace {
    baud: Option<u32>,
    /// When the link is next free: bytes arriving earlier queue behind the previous ones.
    free_at: Option<Instant>,
}

impl Pace {
    /// A direction at this rate (`None`: as fast as the socket goes).
    pub fn new(baud: Option<u32>) -> Pace {
        Pace {
            baud: baud.filter(|b| *b > 0),
            free_at: None,
        }
    }

    /// How long `bytes` bytes take on the wire (10 bits per byte).
    pub fn wire_time(&self, bytes: usize) -> Duration {
        match self.baud {
            None => Duration::ZERO,
            Some(baud) => Duration::from_secs_f64(bytes as f64 * 10.0 / f64::from(baud)),
        }
    }

    /// The largest slice to take at once: about 10 ms of wire time (at least 1 byte), or
    /// `unthrottled` bytes when there is no baud rate.
    pub fn slice_len(&self, unthrottled: usize) -> usize {
        match self.baud {
            None => unthrottled,
            Some(baud) => ((baud / 10 / 100) as usize).clamp(1, unthrottled),
        }
    }

    /// Waits until `bytes` bytes, handed to the link now, have crossed it.
    pub async fn cross(&mut self, bytes: usize) {
        if self.baud.is_none() || bytes == 0 {
            return;
        }
        let now = Instant::now();
        let start = match self.free_at {
            Some(free) if free > now => free,
            _ => now,
        };
        let done = start + self.wire_time(bytes);
        self.free_at = Some(done);
        tokio::time::sleep_until(done).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_time_is_ten_bits_per_byte() {
        let pace = Pace::new(Some(9600));
        assert_eq!(pace.wire_time(960), Duration::from_secs(1));
        assert_eq!(Pace::new(None).wire_time(1_000_000), Duration::ZERO);
        assert_eq!(
            Pace::new(Some(0)).wire_time(10),
            Duration::ZERO,
            "0 baud means no limit"
        );
    }

    #[test]
    fn slices_are_about_ten_milliseconds() {
        assert_eq!(Pace::new(Some(9600)).slice_len(4096), 9);
        assert_eq!(Pace::new(Some(1200)).slice_len(4096), 1);
        assert_eq!(Pace::new(Some(115_200)).slice_len(4096), 115);
        assert_eq!(Pace::new(None).slice_len(4096), 4096);
    }

    #[tokio::test]
    async fn crossing_queues_behind_earlier_bytes() {
        let mut pace = Pace::new(Some(9600));
        let start = Instant::now();
        pace.cross(48).await;
        pace.cross(48).await;
        assert!(Instant::now() - start >= Duration::from_millis(100));
    }
}
