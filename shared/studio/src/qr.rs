//! The QR code of an `otpauth://` URI as SVG markup, for enrolment: drawn
//! here from the secret the API gave, so no third party ever sees it.
use qrcode::QrCode;
use qrcode::render::svg;

/// `text` as an SVG QR code at least `size` pixels wide, or `None` when it
/// does not fit a QR code.
pub fn svg(text: &str, size: u32) -> Option<String> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let markup = code
        .render::<svg::Color<'_>>()
        .min_dimensions(size, size)
        .quiet_zone(true)
        .build();
    // The XML declaration means nothing inside an HTML document.
    Some(match markup.find("<svg") {
        Some(start) => markup[start..].to_owned(),
        None => markup,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_otpauth_uri_draws_as_an_svg_without_inline_style() {
        let svg = svg(
            "otpauth://totp/Sealpost:a%40b.c?secret=JBSWY3DPEHPK3PXP&issuer=Sealpost",
            200,
        )
        .unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("<path"));
        // The console's CSP allows no inline style.
        assert!(!svg.contains("style="));
    }
}
