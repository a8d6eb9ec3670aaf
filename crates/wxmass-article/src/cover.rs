//! Cover pictures made into thumbs: a JPEG of at most 64 KB
//! (wechat-api.md §2 and §4: "thumb 64 KB, JPG"), whatever the writer gave.
//!
//! A JPEG that already fits is kept byte for byte. Anything else is decoded
//! (with limits, so a hostile file cannot take the memory), scaled to fit
//! [`MAX_SIDE`], flattened onto white and recompressed, lowering the quality
//! and then the size until it fits.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};

/// The thumb limit.
pub const THUMB_MAX_BYTES: usize = 64 * 1024;
/// The longest side of a made thumb, in pixels (covers show at phone width).
pub const MAX_SIDE: u32 = 900;
/// Pictures larger than this on either side are refused.
pub const MAX_INPUT_SIDE: u32 = 12_000;

/// What a thumb was made from and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumb {
    /// The JPEG.
    pub jpeg: Vec<u8>,
    /// Its size in pixels.
    pub width: u32,
    /// Its size in pixels.
    pub height: u32,
    /// Whether the input was kept as it was.
    pub unchanged: bool,
}

/// Makes a thumb from a JPEG or PNG file's bytes.
pub fn thumb(data: &[u8]) -> Result<Thumb, String> {
    let format = image::guess_format(data)
        .ok()
        .filter(|f| matches!(f, ImageFormat::Jpeg | ImageFormat::Png))
        .ok_or("a cover must be a JPEG or PNG picture")?;
    let mut reader = ImageReader::with_format(Cursor::new(data), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_INPUT_SIDE);
    limits.max_image_height = Some(MAX_INPUT_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let picture = reader
        .decode()
        .map_err(|e| format!("the cover cannot be read: {e}"))?;
    if format == ImageFormat::Jpeg && data.len() <= THUMB_MAX_BYTES {
        return Ok(Thumb {
            jpeg: data.to_vec(),
            width: picture.width(),
            height: picture.height(),
            unchanged: true,
        });
    }
    let mut picture = flatten(picture);
    if picture.width() > MAX_SIDE || picture.height() > MAX_SIDE {
        picture = picture.thumbnail(MAX_SIDE, MAX_SIDE);
    }
    loop {
        for quality in [85, 75, 65, 55, 45] {
            let jpeg = encode(&picture, quality)?;
            if jpeg.len() <= THUMB_MAX_BYTES {
                return Ok(Thumb {
                    jpeg,
                    width: picture.width(),
                    height: picture.height(),
                    unchanged: false,
                });
            }
        }
        if picture.width() < 64 || picture.height() < 64 {
            return Err("the cover cannot be made small enough for a thumb".into());
        }
        picture = picture.thumbnail(picture.width() * 3 / 4, picture.height() * 3 / 4);
    }
}

/// Drops transparency onto a white background (JPEG has no alpha).
fn flatten(picture: DynamicImage) -> DynamicImage {
    if !picture.color().has_alpha() {
        return DynamicImage::ImageRgb8(picture.to_rgb8());
    }
    let rgba = picture.to_rgba8();
    let mut rgb = image::RgbImage::new(rgba.width(), rgba.height());
    for (to, from) in rgb.pixels_mut().zip(rgba.pixels()) {
        let [r, g, b, a] = from.0;
        let blend =
            |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        to.0 = [blend(r), blend(g), blend(b)];
    }
    DynamicImage::ImageRgb8(rgb)
}

fn encode(picture: &DynamicImage, quality: u8) -> Result<Vec<u8>, String> {
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, quality)
        .encode_image(picture)
        .map_err(|e| format!("the cover cannot be encoded: {e}"))?;
    Ok(jpeg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        // Noise-like content, so the JPEG does not compress to nothing.
        let picture = image::RgbaImage::from_fn(width, height, |x, y| {
            let v = x
                .wrapping_mul(2_654_435_761)
                .wrapping_add(y.wrapping_mul(40_503))
                ^ (x * y);
            image::Rgba([
                (v >> 3) as u8,
                (v >> 11) as u8,
                (x / 16 + y / 16) as u8,
                200,
            ])
        });
        let mut out = Vec::new();
        DynamicImage::ImageRgba8(picture)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .expect("png");
        out
    }

    #[test]
    fn a_4000_by_3000_png_becomes_a_thumb_inside_the_limit() {
        let source = png(4000, 3000);
        assert!(source.len() > THUMB_MAX_BYTES);
        let thumb = thumb(&source).expect("thumb");
        assert!(
            thumb.jpeg.len() <= THUMB_MAX_BYTES,
            "{} bytes",
            thumb.jpeg.len()
        );
        assert!(!thumb.unchanged);
        let decoded = image::load_from_memory_with_format(&thumb.jpeg, ImageFormat::Jpeg)
            .expect("the thumb decodes as JPEG");
        assert_eq!(
            (decoded.width(), decoded.height()),
            (thumb.width, thumb.height)
        );
        assert!(thumb.width <= MAX_SIDE && thumb.height <= MAX_SIDE);
        // The aspect ratio is kept.
        assert!((thumb.width * 3).abs_diff(thumb.height * 4) <= 4);
    }

    #[test]
    fn a_small_jpeg_is_kept_and_other_files_are_refused() {
        let small =
            encode(&DynamicImage::ImageRgb8(image::RgbImage::new(40, 30)), 80).expect("jpeg");
        let kept = thumb(&small).expect("thumb");
        assert!(kept.unchanged);
        assert_eq!(kept.jpeg, small);
        assert!(thumb(b"GIF89a....").is_err());
        assert!(thumb(b"\x89PNG\r\n\x1a\nbroken").is_err());
    }
}
