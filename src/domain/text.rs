//! Free text customers and operators type (e-mails, venue names) is shown on pages, in
//! the admin dashboard and in logs. Control characters (line breaks, escapes, NUL) and
//! Unicode bidirectional controls (which make `moc.elpmaxe@` read as something else,
//! "Trojan Source") are refused there, with a 422.

/// True if `c` is a control character or a bidirectional formatting character.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061C}' // arabic letter mark
            | '\u{200E}' | '\u{200F}' // left-to-right / right-to-left mark
            | '\u{202A}'..='\u{202E}' // embeddings, overrides, pop
            | '\u{2066}'..='\u{2069}' // isolates
        )
}

/// True if `text` contains a character [`is_unsafe_char`] refuses.
pub fn has_unsafe_chars(text: &str) -> bool {
    text.chars().any(is_unsafe_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_controls_are_unsafe_other_text_is_not() {
        for bad in ["a\u{202E}b", "a\nb", "a\u{0}b", "a\u{2066}b", "\u{200F}", "a\u{1b}[31m", "a\u{7f}"] {
            assert!(has_unsafe_chars(bad), "{bad:?}");
        }
        for good in ["Club Nord", "Café Ümlaut", "شارع", "東京バー", "ana+tag@example.com"] {
            assert!(!has_unsafe_chars(good), "{good:?}");
        }
    }
}
