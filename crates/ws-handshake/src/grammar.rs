//! The header grammar of RFC 6455 §9.1 and §11.3.4, for `Sec-WebSocket-Extensions` and
//! `Sec-WebSocket-Protocol`.
//!
//! ```text
//! extension-list = 1#extension
//! extension      = token *( ";" param )
//! param          = token [ "=" ( token | quoted-string ) ]
//! protocol-list  = 1#token
//! ```
//!
//! A header field may appear on several lines; the lines form one list, so each parser
//! takes every value of the field. Parsing borrows from the header values and allocates
//! nothing per byte; only a quoted parameter value with backslash escapes is copied, and
//! only when asked for ([`Param::value`]).
//!
//! ```
//! use ws_handshake::grammar::parse_extensions;
//!
//! let lines = ["permessage-deflate; client_max_window_bits, x-foo", "x-bar; y=\"1\""];
//! let names: Vec<&str> = parse_extensions(lines)
//!     .map(|ext| ext.map(|ext| ext.name()))
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(names, ["permessage-deflate", "x-foo", "x-bar"]);
//! # Ok::<(), ws_handshake::grammar::GrammarError>(())
//! ```

use std::borrow::Cow;
use std::str;

use crate::error::UsageError;

/// A header value that breaks the list grammar of RFC 6455 §9.1 / §11.3.4.
///
/// Offsets count bytes from the start of the offending header value (line).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrammarError {
    /// The header value holds no list element, but the grammar requires at least one (`1#`).
    #[error("header value holds no list element; at least one is required")]
    Empty,
    /// A token (RFC 7230 §3.2.6) was required at this offset.
    #[error("expected a token at byte {at}")]
    ExpectedToken {
        /// Offset of the first byte that is not a token character.
        at: usize,
    },
    /// A byte the grammar does not allow here, e.g. text after an element without a comma.
    #[error("unexpected byte at {at}")]
    UnexpectedByte {
        /// Offset of the byte.
        at: usize,
    },
    /// A quoted string without its closing quote.
    #[error("quoted string opened at byte {at} is not closed")]
    UnterminatedQuote {
        /// Offset of the opening quote.
        at: usize,
    },
    /// A quoted parameter value that is not a token once unescaped (RFC 6455 §9.1).
    #[error("quoted value at byte {at} is not a token once unescaped")]
    QuotedNotToken {
        /// Offset of the opening quote.
        at: usize,
    },
}

/// Whether `b` is a token character (`tchar`, RFC 7230 §3.2.6).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether `s` is a non-empty token (RFC 7230 §3.2.6), the form subprotocol names and
/// extension names must take.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// A position in one header value. Every slice it hands out starts and ends next to ASCII
/// bytes, so the slices are valid UTF-8 whatever the rest of the value holds.
#[derive(Clone, Copy, Debug)]
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    /// Skips optional whitespace (`OWS`: spaces and tabs).
    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// The text between two offsets, which the caller has checked to be ASCII.
    fn text(&self, start: usize, end: usize) -> Result<&'a str, GrammarError> {
        self.bytes
            .get(start..end)
            .and_then(|b| str::from_utf8(b).ok())
            .ok_or(GrammarError::UnexpectedByte { at: start })
    }

    fn token(&mut self) -> Result<&'a str, GrammarError> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(GrammarError::ExpectedToken { at: start });
        }
        self.text(start, self.pos)
    }

    /// A quoted string whose content, unescaped, is a token (RFC 6455 §9.1). Returns the
    /// content between the quotes, still escaped.
    fn quoted_token(&mut self) -> Result<&'a str, GrammarError> {
        let open = self.pos;
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek() {
                None => return Err(GrammarError::UnterminatedQuote { at: open }),
                Some(b'"') if self.pos > start => break,
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b) if is_tchar(b) => self.pos += 1,
                        None => return Err(GrammarError::UnterminatedQuote { at: open }),
                        Some(_) => return Err(GrammarError::QuotedNotToken { at: open }),
                    }
                }
                Some(b) if is_tchar(b) => self.pos += 1,
                // Includes `""`: an empty value is not a token.
                Some(_) => return Err(GrammarError::QuotedNotToken { at: open }),
            }
        }
        let content = self.text(start, self.pos)?;
        self.pos += 1;
        Ok(content)
    }

    /// `OWS param`, the cursor being just after a `;`.
    fn param(&mut self) -> Result<Param<'a>, GrammarError> {
        self.skip_ows();
        let name = self.token()?;
        let before_eq = self.pos;
        self.skip_ows();
        if !self.eat(b'=') {
            // No value: leave the whitespace for the caller, as after any element part.
            self.pos = before_eq;
            return Ok(Param {
                name,
                value: None,
                quoted: false,
            });
        }
        self.skip_ows();
        let quoted = self.peek() == Some(b'"');
        let value = if quoted {
            self.quoted_token()?
        } else {
            self.token()?
        };
        Ok(Param {
            name,
            value: Some(value),
            quoted,
        })
    }
}

/// One element of a comma-separated list header, as its parser sees it.
trait Element<'a>: Sized {
    /// Parses one element at the cursor, leaving it after the element's last non-space byte.
    fn parse(cursor: &mut Cursor<'a>) -> Result<Self, GrammarError>;
}

impl<'a> Element<'a> for &'a str {
    fn parse(cursor: &mut Cursor<'a>) -> Result<Self, GrammarError> {
        cursor.token()
    }
}

impl<'a> Element<'a> for Extension<'a> {
    fn parse(cursor: &mut Cursor<'a>) -> Result<Self, GrammarError> {
        let start = cursor.pos;
        let name = cursor.token()?;
        let params_start = cursor.pos;
        loop {
            let end = cursor.pos;
            cursor.skip_ows();
            if !cursor.eat(b';') {
                cursor.pos = end;
                return Ok(Extension {
                    text: cursor.text(start, end)?,
                    name,
                    params: cursor.text(params_start, end)?,
                });
            }
            cursor.param()?;
        }
    }
}

/// The elements of one header value: `1#element`, empty elements skipped (RFC 7230 §7).
#[derive(Debug)]
struct List<'a, T> {
    cursor: Cursor<'a>,
    seen: bool,
    done: bool,
    element: std::marker::PhantomData<T>,
}

impl<'a, T: Element<'a>> List<'a, T> {
    fn new(value: &'a [u8]) -> Self {
        List {
            cursor: Cursor {
                bytes: value,
                pos: 0,
            },
            seen: false,
            done: false,
            element: std::marker::PhantomData,
        }
    }

    fn next_element(&mut self) -> Result<Option<T>, GrammarError> {
        loop {
            self.cursor.skip_ows();
            match self.cursor.peek() {
                None if self.seen => return Ok(None),
                None => return Err(GrammarError::Empty),
                Some(b',') => self.cursor.pos += 1,
                Some(_) => break,
            }
        }
        let element = T::parse(&mut self.cursor)?;
        self.cursor.skip_ows();
        match self.cursor.peek() {
            None => {}
            Some(b',') => self.cursor.pos += 1,
            Some(_) => {
                return Err(GrammarError::UnexpectedByte {
                    at: self.cursor.pos,
                });
            }
        }
        self.seen = true;
        Ok(Some(element))
    }
}

impl<'a, T: Element<'a>> Iterator for List<'a, T> {
    type Item = Result<T, GrammarError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.next_element().transpose();
        // After an error the rest of the value cannot be trusted; after the end there is none.
        self.done = !matches!(next, Some(Ok(_)));
        next
    }
}

/// Parses every value of a `Sec-WebSocket-Extensions` header (RFC 6455 §9.1), in order.
///
/// `values` are the header's lines, e.g. `headers.get_all(SEC_WEBSOCKET_EXTENSIONS)`. Each
/// line must hold at least one element. After an error in one line, parsing goes on with
/// the next, so collect into a `Result` to stop at the first error.
pub fn parse_extensions<'a, V>(
    values: impl IntoIterator<Item = &'a V>,
) -> impl Iterator<Item = Result<Extension<'a>, GrammarError>>
where
    V: AsRef<[u8]> + ?Sized + 'a,
{
    values
        .into_iter()
        .flat_map(|value| List::<Extension<'a>>::new(value.as_ref()))
}

/// Parses every value of a token-list header such as `Sec-WebSocket-Protocol`
/// (`1#token`, RFC 6455 §11.3.4), in order.
///
/// `values` and errors are handled as in [`parse_extensions`].
pub fn parse_tokens<'a, V>(
    values: impl IntoIterator<Item = &'a V>,
) -> impl Iterator<Item = Result<&'a str, GrammarError>>
where
    V: AsRef<[u8]> + ?Sized + 'a,
{
    values
        .into_iter()
        .flat_map(|value| List::<&'a str>::new(value.as_ref()))
}

/// The elements of extension lists the caller wrote (offers, acceptances), checked.
pub(crate) fn caller_extensions<'a>(
    texts: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<Extension<'a>>, UsageError> {
    let mut elements = Vec::new();
    for text in texts {
        for ext in parse_extensions([text]) {
            elements.push(ext.map_err(|error| UsageError::InvalidExtension {
                text: text.to_owned(),
                error,
            })?);
        }
    }
    Ok(elements)
}

/// One extension of a `Sec-WebSocket-Extensions` list: a name and its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extension<'a> {
    text: &'a str,
    name: &'a str,
    /// The `*( ";" param )` part, already validated.
    params: &'a str,
}

impl<'a> Extension<'a> {
    /// Parses a single extension, e.g. one element of a list as kept by the handshake.
    /// Surrounding whitespace is allowed; a comma is not.
    pub fn parse(text: &'a str) -> Result<Extension<'a>, GrammarError> {
        let mut list = List::<Extension<'a>>::new(text.as_bytes());
        let first = list.next_element()?.ok_or(GrammarError::Empty)?;
        match list.next_element()? {
            None => Ok(first),
            Some(_) => Err(GrammarError::UnexpectedByte {
                at: first.text.len(),
            }),
        }
    }

    /// The extension's name, e.g. `permessage-deflate`.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The whole element as it appeared, without surrounding whitespace, e.g.
    /// `permessage-deflate; client_max_window_bits`.
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// The extension's parameters, in order.
    pub fn params(&self) -> Params<'a> {
        Params {
            cursor: Cursor {
                bytes: self.params.as_bytes(),
                pos: 0,
            },
        }
    }
}

/// The parameters of an [`Extension`], from [`Extension::params`].
#[derive(Clone, Debug)]
pub struct Params<'a> {
    cursor: Cursor<'a>,
}

impl<'a> Iterator for Params<'a> {
    type Item = Param<'a>;

    fn next(&mut self) -> Option<Param<'a>> {
        self.cursor.skip_ows();
        if !self.cursor.eat(b';') {
            return None;
        }
        // The text was validated when the extension was parsed, so it cannot fail here.
        self.cursor.param().ok()
    }
}

/// One extension parameter: `name` or `name=value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param<'a> {
    name: &'a str,
    value: Option<&'a str>,
    quoted: bool,
}

impl<'a> Param<'a> {
    /// The parameter's name.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The parameter's value, if it has one, with quotes and escapes removed. It borrows
    /// from the header unless the value held a backslash escape.
    pub fn value(&self) -> Option<Cow<'a, str>> {
        let value = self.value?;
        if self.quoted && value.contains('\\') {
            // A backslash escapes the next character; the grammar made every one a tchar.
            let mut unescaped = String::with_capacity(value.len());
            let mut escaped = false;
            for c in value.chars() {
                if c == '\\' && !escaped {
                    escaped = true;
                } else {
                    unescaped.push(c);
                    escaped = false;
                }
            }
            Some(Cow::Owned(unescaped))
        } else {
            Some(Cow::Borrowed(value))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An extension's name and its parameters' names and values, owned for comparison.
    type Parsed = (String, Vec<(String, Option<String>)>);

    fn extensions(lines: &[&str]) -> Result<Vec<Parsed>, GrammarError> {
        parse_extensions(lines.iter().copied())
            .map(|ext| {
                ext.map(|ext| {
                    let params = ext
                        .params()
                        .map(|p| (p.name().to_owned(), p.value().map(Cow::into_owned)))
                        .collect();
                    (ext.name().to_owned(), params)
                })
            })
            .collect()
    }

    fn p(name: &str, value: Option<&str>) -> (String, Option<String>) {
        (name.to_owned(), value.map(str::to_owned))
    }

    #[test]
    fn extension_with_params_of_every_form() {
        let parsed =
            extensions(&["permessage-deflate ; a ;b=15; c = \"x\\y\" ;d=\"10\", x-ext"]).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].0, "permessage-deflate");
        assert_eq!(
            parsed[0].1,
            [
                p("a", None),
                p("b", Some("15")),
                p("c", Some("xy")),
                p("d", Some("10"))
            ]
        );
        assert_eq!(parsed[1], ("x-ext".to_owned(), vec![]));
    }

    #[test]
    fn several_lines_form_one_list() {
        let parsed = extensions(&["a; x=1", "b, c;y"]).unwrap();
        let names: Vec<_> = parsed.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[test]
    fn comma_inside_quotes_is_rejected_not_split() {
        // §9.1 requires the unescaped value to be a token, and a comma is not a tchar.
        assert_eq!(
            extensions(&["a; x=\"1,2\", b"]),
            Err(GrammarError::QuotedNotToken { at: 5 })
        );
    }

    #[test]
    fn empty_elements_are_skipped() {
        let parsed = extensions(&[" , a ,, b , "]).unwrap();
        assert_eq!(parsed.len(), 2);
    }

    #[test]
    fn each_grammar_error() {
        assert_eq!(extensions(&[""]), Err(GrammarError::Empty));
        assert_eq!(extensions(&[" , "]), Err(GrammarError::Empty));
        assert_eq!(
            extensions(&["a; =1"]),
            Err(GrammarError::ExpectedToken { at: 3 })
        );
        assert_eq!(
            extensions(&["a b"]),
            Err(GrammarError::UnexpectedByte { at: 2 })
        );
        assert_eq!(
            extensions(&["a; x=\"abc"]),
            Err(GrammarError::UnterminatedQuote { at: 5 })
        );
        assert_eq!(
            extensions(&["a; x=\"ab\\"]),
            Err(GrammarError::UnterminatedQuote { at: 5 })
        );
        assert_eq!(
            extensions(&["a; x=\"\""]),
            Err(GrammarError::QuotedNotToken { at: 5 })
        );
        assert_eq!(
            extensions(&["a; x=\"a b\""]),
            Err(GrammarError::QuotedNotToken { at: 5 })
        );
        assert_eq!(
            extensions(&["a; x=\"\\ \""]),
            Err(GrammarError::QuotedNotToken { at: 5 })
        );
        assert_eq!(
            extensions(&["a; x="]),
            Err(GrammarError::ExpectedToken { at: 5 })
        );
        assert_eq!(
            extensions(&["é"]),
            Err(GrammarError::ExpectedToken { at: 0 })
        );
    }

    #[test]
    fn extension_text_and_single_parse() {
        let ext = Extension::parse("  foo ; bar=\"b\\az\"  ").unwrap();
        assert_eq!(ext.as_str(), "foo ; bar=\"b\\az\"");
        assert_eq!(ext.name(), "foo");
        let param = ext.params().next().unwrap();
        assert_eq!(param.value().as_deref(), Some("baz"));
        assert_eq!(
            Extension::parse("a, b"),
            Err(GrammarError::UnexpectedByte { at: 1 })
        );
        assert_eq!(Extension::parse(""), Err(GrammarError::Empty));
    }

    #[test]
    fn unescaped_values_borrow() {
        let ext = Extension::parse("a; x=\"plain\"; y=bare").unwrap();
        for param in ext.params() {
            assert!(matches!(param.value(), Some(Cow::Borrowed(_))));
        }
    }

    #[test]
    fn token_lists() {
        let tokens: Result<Vec<_>, _> = parse_tokens(["chat, superchat", "v2.json"]).collect();
        assert_eq!(tokens.unwrap(), ["chat", "superchat", "v2.json"]);
        let bad: Result<Vec<_>, _> = parse_tokens(["chat; x"]).collect();
        assert_eq!(bad, Err(GrammarError::UnexpectedByte { at: 4 }));
        let bad: Result<Vec<_>, _> = parse_tokens(["\"chat\""]).collect();
        assert_eq!(bad, Err(GrammarError::ExpectedToken { at: 0 }));
    }

    #[test]
    fn tokens_are_checked() {
        assert!(is_token("permessage-deflate"));
        assert!(!is_token(""));
        assert!(!is_token("a b"));
        assert!(!is_token("a/b"));
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn arbitrary_bytes_never_panic(value in proptest::collection::vec(any::<u8>(), 0..64)) {
                for ext in parse_extensions([&value[..]]).flatten() {
                    for param in ext.params() {
                        let _ = param.value();
                    }
                }
                let _ = parse_tokens([&value[..]]).count();
            }

            #[test]
            fn printed_extensions_parse_back(
                exts in proptest::collection::vec(
                    ("[a-z-]{1,8}", proptest::collection::vec(("[a-z_]{1,6}", proptest::option::of("[0-9a-z]{1,4}"), any::<bool>()), 0..4)),
                    1..4,
                )
            ) {
                let text = exts.iter().map(|(name, params)| {
                    let mut s = name.clone();
                    for (pname, value, quoted) in params {
                        s.push_str("; ");
                        s.push_str(pname);
                        match (value, quoted) {
                            (Some(v), true) => s.push_str(&format!("=\"{v}\"")),
                            (Some(v), false) => s.push_str(&format!("={v}")),
                            (None, _) => {}
                        }
                    }
                    s
                }).collect::<Vec<_>>().join(", ");
                let parsed: Vec<Extension<'_>> = parse_extensions([text.as_str()]).collect::<Result<_, _>>().unwrap();
                prop_assert_eq!(parsed.len(), exts.len());
                for (ext, (name, params)) in parsed.iter().zip(&exts) {
                    prop_assert_eq!(ext.name(), name.as_str());
                    let got: Vec<_> = ext.params().map(|p| (p.name().to_owned(), p.value().map(Cow::into_owned))).collect();
                    let want: Vec<_> = params.iter().map(|(n, v, _)| (n.clone(), v.clone())).collect();
                    prop_assert_eq!(got, want);
                }
            }
        }
    }
}
