//! Thumbnails and previews for uploaded images, as MEGA's own clients make them: a 120x120
//! JPEG of the image's centre (file attribute type 0) and a JPEG of at most 1000 px on its
//! longer side (type 1). A picture that cannot be read gets none; the upload goes on.

use std::path::Path;

use image::imageops::FilterType;
use image::{DynamicImage, ImageReader};

const THUMBNAIL: u32 = 120;
const PREVIEW: u32 = 1000;
/// Larger pictures are not decoded for a thumbnail (memory).
const MAX_PIXELS: u64 = 80_000_000;
const EXTENSIONS: [&str; 7] = ["jpg", "jpeg", "png", "gif", "webp", "bmp", "jfif"];

/// Whether the name looks like a picture we make thumbnails for.
pub(crate) fn is_picture(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

fn jpeg(img: &DynamicImage) -> Option<Vec<u8>> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.to_rgb8().write_to(&mut out, image::ImageFormat::Jpeg).ok()?;
    Some(out.into_inner())
}

/// The thumbnail and preview of a picture file (blocking: decode and encode).
pub(crate) fn make(path: &Path) -> Option<Vec<(u32, Vec<u8>)>> {
    let reader = ImageReader::open(path).ok()?.with_guessed_format().ok()?;
    let (w, h) = reader.into_dimensions().ok()?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS || w == 0 || h == 0 {
        return None;
    }
    let img = ImageReader::open(path).ok()?.with_guessed_format().ok()?.decode().ok()?;
    let side = w.min(h);
    let square = img.crop_imm((w - side) / 2, (h - side) / 2, side, side);
    let thumbnail = square.resize_exact(THUMBNAIL, THUMBNAIL, FilterType::Triangle);
    let preview = if w.max(h) > PREVIEW { img.resize(PREVIEW, PREVIEW, FilterType::Triangle) } else { img };
    Some(vec![(0, jpeg(&thumbnail)?), (1, jpeg(&preview)?)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_get_a_square_thumbnail_and_a_bounded_preview() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("wide.PNG");
        image::RgbImage::from_fn(1600, 900, |x, y| image::Rgb([x as u8, y as u8, 90]))
            .save_with_format(&p, image::ImageFormat::Png)
            .unwrap();
        assert!(is_picture(&p));
        let attrs = make(&p).unwrap();
        let thumb = image::load_from_memory(&attrs[0].1).unwrap();
        let preview = image::load_from_memory(&attrs[1].1).unwrap();
        assert_eq!((attrs[0].0, thumb.width(), thumb.height()), (0, 120, 120));
        assert_eq!((attrs[1].0, preview.width(), preview.height()), (1, 1000, 563));
        let not = d.path().join("notes.txt");
        std::fs::write(&not, b"text").unwrap();
        assert!(!is_picture(&not));
        let fake = d.path().join("fake.jpg");
        std::fs::write(&fake, b"not a jpeg").unwrap();
        assert!(make(&fake).is_none(), "an unreadable picture gets no thumbnail");
    }
}
