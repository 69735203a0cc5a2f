//! Incremental UTF-8 validation: text arrives in pieces (fragments, or parts of a frame
//! still arriving), and a bad message must be refused on the first byte that can no longer
//! become valid, not at its end.
//!
//! Built on `std::str::from_utf8`, whose `Utf8Error::error_len()` tells "invalid" (`Some`)
//! from "a valid prefix cut short at the end" (`None`). At most 3 bytes of an unfinished
//! character are carried from one piece to the next.

/// The input can never become valid UTF-8, whatever follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InvalidUtf8;

/// A UTF-8 validator fed one piece at a time.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Utf8Validator {
    /// The start of a character cut by the end of the last piece.
    partial: [u8; 4],
    partial_len: u8,
}

impl Utf8Validator {
    /// A validator at the start of a text.
    pub(crate) fn new() -> Utf8Validator {
        Utf8Validator::default()
    }

    /// Validates the next piece of the text. Fails as soon as a byte makes the text
    /// invalid; after a failure the validator must not be used again.
    pub(crate) fn feed(&mut self, mut input: &[u8]) -> Result<(), InvalidUtf8> {
        if self.partial_len > 0 {
            let have = usize::from(self.partial_len);
            let need = char_len(self.partial[0]) - have;
            let take = need.min(input.len());
            let mut tmp = [0u8; 4];
            tmp[..have].copy_from_slice(&self.partial[..have]);
            tmp[have..have + take].copy_from_slice(&input[..take]);
            match std::str::from_utf8(&tmp[..have + take]) {
                Ok(_) => self.partial_len = 0,
                Err(e) if e.error_len().is_some() => return Err(InvalidUtf8),
                // Still a valid prefix of one character: `take < need`, so input is used up.
                Err(_) => {
                    self.partial = tmp;
                    self.partial_len = (have + take) as u8;
                    return Ok(());
                }
            }
            input = &input[take..];
        }
        match std::str::from_utf8(input) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(InvalidUtf8),
            Err(e) => {
                let rest = &input[e.valid_up_to()..];
                self.partial[..rest.len()].copy_from_slice(rest);
                self.partial_len = rest.len() as u8;
                Ok(())
            }
        }
    }

    /// Whether the text fed so far ends on a character boundary, i.e. is valid as a
    /// whole if it ends here.
    pub(crate) fn is_complete(&self) -> bool {
        self.partial_len == 0
    }
}

/// The length of the character a lead byte starts. Only called on the first byte of a
/// valid prefix, which `from_utf8` guarantees is a multi-byte lead byte.
fn char_len(lead: u8) -> usize {
    match lead {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        _ => 2,
    }
}

/// Validates a whole text in one go.
#[cfg(test)]
fn validate(text: &[u8]) -> Result<(), InvalidUtf8> {
    std::str::from_utf8(text).map(drop).map_err(|_| InvalidUtf8)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The length of the shortest prefix of `text` that can no longer become valid.
    fn fail_point(text: &[u8]) -> Option<usize> {
        (1..=text.len())
            .find(|&k| std::str::from_utf8(&text[..k]).is_err_and(|e| e.error_len().is_some()))
    }

    /// Feeds `text` in the given pieces: `Ok(complete)` or the number of bytes fed when it
    /// failed (the end of the failing piece).
    fn chunked(text: &[u8], cuts: &[usize]) -> Result<bool, usize> {
        let mut v = Utf8Validator::new();
        let mut start = 0;
        let mut ends: Vec<usize> = cuts.iter().map(|&c| c.min(text.len())).collect();
        ends.push(text.len());
        ends.sort_unstable();
        for end in ends {
            v.feed(&text[start..end]).map_err(|_| end)?;
            start = end;
        }
        Ok(v.is_complete())
    }

    #[test]
    fn known_cases() {
        assert_eq!(chunked("κόσμε".as_bytes(), &[1, 3, 4]), Ok(true));
        assert_eq!(chunked("€".as_bytes(), &[1]), Ok(true));
        assert_eq!(chunked("€".as_bytes()[..2].as_ref(), &[]), Ok(false));
        // Autobahn 6.4.1: valid up to the 4th byte of a 4-byte sequence that turns bad.
        let bad = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64";
        assert_eq!(fail_point(bad), Some(13));
        for step in 1..5 {
            let cuts: Vec<usize> = (0..bad.len()).step_by(step).collect();
            let failed_at = chunked(bad, &cuts).unwrap_err();
            assert!(
                failed_at >= 13 && failed_at < 13 + step,
                "{step}: {failed_at}"
            );
        }
        // A lone continuation byte, an overlong form, a surrogate, a bad lead byte.
        for bad in [
            &b"a\x80"[..],
            b"\xc0\xaf",
            b"\xed\xa0\x80",
            b"\xf5",
            b"\xe0\x80",
        ] {
            assert!(chunked(bad, &[1]).is_err());
            assert!(validate(bad).is_err());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Chunked validation gives the same verdict as the whole at once, and fails in the
        /// piece holding the first byte that makes the text invalid.
        #[test]
        fn chunked_equals_whole(
            text in prop_oneof![
                any::<String>().prop_map(String::into_bytes),
                proptest::collection::vec(any::<u8>(), 0..40),
                proptest::collection::vec(
                    prop_oneof![Just(0xe2u8), Just(0x82), Just(0xac), Just(0xf0), Just(0x9f),
                        Just(0x80), Just(b'a'), Just(0xc3), Just(0xed), Just(0xa0), Just(0xf4),
                        Just(0x90), Just(0xbf)],
                    0..24,
                ),
            ],
            cuts in proptest::collection::vec(0usize..48, 0..8),
        ) {
            let whole_ok = std::str::from_utf8(&text).is_ok();
            match (chunked(&text, &cuts), fail_point(&text)) {
                (Ok(complete), None) => prop_assert_eq!(complete, whole_ok),
                (Err(fed), Some(point)) => {
                    // The failing piece is the one that contains byte `point - 1`.
                    let mut ends: Vec<usize> = cuts.iter().map(|&c| c.min(text.len())).collect();
                    ends.push(text.len());
                    ends.sort_unstable();
                    let expected = *ends.iter().find(|&&e| e >= point).unwrap();
                    prop_assert_eq!(fed, expected);
                }
                (chunked, point) => prop_assert!(false, "chunked {:?}, fail point {:?}", chunked, point),
            }
        }

        /// Byte-at-a-time: fails exactly at the fail point.
        #[test]
        fn byte_at_a_time(text in proptest::collection::vec(any::<u8>(), 0..32)) {
            let cuts: Vec<usize> = (0..text.len()).collect();
            match chunked(&text, &cuts) {
                Ok(complete) => {
                    prop_assert!(fail_point(&text).is_none());
                    prop_assert_eq!(complete, std::str::from_utf8(&text).is_ok());
                }
                Err(fed) => prop_assert_eq!(Some(fed), fail_point(&text)),
            }
        }
    }
}
