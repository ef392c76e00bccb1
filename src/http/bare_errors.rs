//! Error responses actix-http writes by itself, before any route runs (a malformed
//! head: 400; a head too large: 431; a head too slow: 408), carry no body. This finds
//! such a response in outgoing bytes and gives it the JSON error body of every other
//! qskip error. qskip's own handlers never send a 4xx or 5xx with `content-length: 0`
//! (every error is JSON), so the pattern cannot catch one of theirs.

const STATUS_LINE: &[u8] = b"HTTP/1.1 ";
const EMPTY_BODY: &[u8] = b"\r\ncontent-length: 0\r\n";
const HEAD_END: &[u8] = b"\r\n\r\n";

/// Every byte qskip sends passes through here, so the search is memchr's SIMD one (a
/// naive window scan cost 5.6% of the CPU of the day-of-windows read load).
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(haystack.get(from..)?, needle).map(|at| at + from)
}

/// Code and message of the JSON body for a bare error with this status.
fn error_of(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => ("bad_request", "the request is not valid HTTP/1.1"),
        408 => ("request_timeout", "the request was not received in time"),
        413 => ("payload_too_large", "the request is too large"),
        431 => ("headers_too_large", "the request head is too large"),
        500..=599 => ("http_error", "the connection failed; retry"),
        _ => ("http_error", "the request cannot be served"),
    }
}

/// `bytes` with the first bare 4xx/5xx response in them given a JSON body; `None` if
/// there is none.
pub fn with_json_body(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut from = 0;
    while let Some(start) = find(bytes, STATUS_LINE, from) {
        from = start + 1;
        let code = bytes.get(start + STATUS_LINE.len()..start + STATUS_LINE.len() + 3)?;
        let Some(status) = std::str::from_utf8(code).ok().and_then(|c| c.parse::<u16>().ok()) else { continue };
        let line_end = find(bytes, b"\r\n", start)?;
        if !(400..=599).contains(&status) || !bytes[line_end..].starts_with(EMPTY_BODY) {
            continue;
        }
        let head_end = find(bytes, HEAD_END, line_end)? + HEAD_END.len();
        let (code, message) = error_of(status);
        let body = serde_json::json!({ "error": { "code": code, "message": message } }).to_string();
        let mut out = Vec::with_capacity(bytes.len() + body.len() + 64);
        out.extend_from_slice(&bytes[..line_end]);
        out.extend_from_slice(
            format!("\r\ncontent-length: {}\r\ncontent-type: application/json\r\n", body.len()).as_bytes(),
        );
        out.extend_from_slice(&bytes[line_end + EMPTY_BODY.len()..head_end]);
        out.extend_from_slice(body.as_bytes());
        out.extend_from_slice(&bytes[head_end..]);
        return Some(out);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_400_gets_a_json_body_and_other_bytes_stay_as_they_are() {
        let bare = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\ndate: x\r\n\r\n";
        let out = String::from_utf8(with_json_body(bare).expect("a bare error")).expect("ASCII");
        let (head, body) = out.split_once("\r\n\r\n").expect("a head");
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\ncontent-length: "), "{head}");
        assert!(head.contains("content-type: application/json") && head.contains("connection: close"), "{head}");
        let length: usize =
            head.split("content-length: ").nth(1).unwrap().split("\r\n").next().unwrap().parse().unwrap();
        assert_eq!(length, body.len());
        let json: serde_json::Value = serde_json::from_str(body).expect("JSON");
        assert_eq!(json["error"]["code"], "bad_request");

        let before = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        let both = [&before[..], &bare[..]].concat();
        let out = with_json_body(&both).expect("the bare error after a good response");
        assert!(out.starts_with(before));

        for untouched in [
            &before[..],
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 12\r\n\r\n{\"error\":{}}",
            b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n",
            b"data: HTTP/1.1 400 in an event\n\n",
        ] {
            assert_eq!(with_json_body(untouched), None, "{}", String::from_utf8_lossy(untouched));
        }
        let header_too_large = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
        let out = String::from_utf8(with_json_body(header_too_large).unwrap()).unwrap();
        assert!(
            out.ends_with("\"headers_too_large\",\"message\":\"the request head is too large\"}}")
                || out.contains("headers_too_large")
        );
    }
}
