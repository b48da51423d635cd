//! The demo drive (`--demo`): a documented account with a realistic drive, so that a newcomer can
//! use every part of the app offline and tests can lean on known content.
//!
//! | what | where |
//! |---|---|
//! | account | [`EMAIL`] / [`PASSWORD`] (v2) |
//! | nested folders | `Documents/Work/{Reports 2025,Invoices,Meeting notes}`, `Photos/{2023/Summer,2024/Winter,2024/Screenshots,2025}`, `Music/…/…`, `Projects/{tuatara/{src,docs},website}`, `Datasets/measurements`, `Backups`, `Camera Uploads` |
//! | mixed files | PDFs, Markdown, CSV, JSON, Rust and web sources, WAV audio, JPEG and PNG images (each image with a 120×120 thumbnail and a preview as file attributes), a 3 s WebM video (`Camera Uploads/PXL_20251109_clip.webm`) |
//! | large files | `Backups/laptop-2025-10.img` (480 MB), `Datasets/sensor-log-2024.dat` (150 MB), `Datasets/weather-archive.bin` (52 MB) |
//! | duplicate names | two `Documents/report.pdf` files, two `Documents/Notes` folders |
//! | folder link | `Photos/2024`, exported |
//! | file link | `Datasets/weather-archive.bin` |
//! | `#P!` link | `Documents/Personal/CV.pdf`, password [`LINK_PASSWORD`] |
//! | rubbish bin | `old-draft.md`, `temp-export.csv` and the folder `Old screenshots`, with `rr` (their original folder) so they can be restored |
//! | incoming share | `Trip to Wanaka`, shared read-only by [`FRIEND_EMAIL`] / [`FRIEND_PASSWORD`] |
//! | with `--official-apps` | `Music` exported and `Ski weekend` shared by the friend as today's official apps do: dummy `ok`/`ha`, the keys only in `^!keys` |
//!
//! Every byte is generated from fixed seeds, so the content is the same on every machine; the
//! keys are random, as a client's would be. With `--data`, the demo is seeded once and kept.

use std::io::{Read, Seek, SeekFrom};

use image::{ImageEncoder, Rgb, RgbImage};
use mega_proto::protected;

use crate::seed::{self, Prepared, SeedError};
use crate::store::Store;

/// The demo account's e-mail.
pub const EMAIL: &str = "demo@tuatara.test";
/// The demo account's password.
pub const PASSWORD: &str = "tuatara-demo";
/// The account that shares a folder with the demo account.
pub const FRIEND_EMAIL: &str = "friend@tuatara.test";
/// Its password.
pub const FRIEND_PASSWORD: &str = "tuatara-friend";
/// The password of the demo's `#P!` link.
pub const LINK_PASSWORD: &str = "tuatara";

/// The exported folder.
pub const FOLDER_LINK_PATH: &str = "/Photos/2024";
/// The exported file.
pub const FILE_LINK_PATH: &str = "/Datasets/weather-archive.bin";
/// The file behind the `#P!` link.
pub const PROTECTED_LINK_PATH: &str = "/Documents/Personal/CV.pdf";
/// The folder the friend shares.
pub const SHARED_FOLDER: &str = "Trip to Wanaka";
/// With [`Store::official_apps`]: the folder exported as the official apps export today.
pub const APP_FOLDER_LINK_PATH: &str = "/Music";
/// With [`Store::official_apps`]: the folder the friend shares as the official apps share today.
pub const APP_SHARED_FOLDER: &str = "Ski weekend";

/// What the demo holds, for printing and for tests.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The folder link of [`FOLDER_LINK_PATH`], with its key.
    pub folder_link: String,
    /// The file link of [`FILE_LINK_PATH`], with its key.
    pub file_link: String,
    /// A `#P!` link to [`PROTECTED_LINK_PATH`] (password [`LINK_PASSWORD`]).
    pub protected_link: String,
    /// With [`Store::official_apps`]: the folder link of [`APP_FOLDER_LINK_PATH`], with its key
    /// (which is only in the demo account's `^!keys`).
    pub app_folder_link: Option<String>,
    /// Files in the demo account (cloud drive and rubbish bin).
    pub files: usize,
    /// Bytes in those files.
    pub bytes: u64,
}

/// What a demo file contains.
enum Content {
    Text(String),
    Pdf(String, Vec<String>),
    Jpeg {
        w: u32,
        h: u32,
        seed: u64,
    },
    Png {
        w: u32,
        h: u32,
        seed: u64,
    },
    Wav {
        seed: u64,
        seconds: u32,
    },
    /// Bytes carried by the server (the video clip).
    Bytes(&'static [u8]),
    /// Pseudo-random bytes, generated as they are read (the large files).
    Synthetic {
        size: u64,
        seed: u64,
    },
}

struct Planned {
    path: String,
    content: Content,
    mtime: i64,
}

/// A small, fast, fixed-seed generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// 2025-11-01 00:00 UTC; demo files are dated before it.
const BASE_TIME: i64 = 1_761_955_200;
const DAY: i64 = 86_400;

const WORDS: &[&str] = &[
    "transfer", "folder", "quota", "session", "upload", "chunk", "mirror", "backup", "review", "budget", "schedule",
    "release", "draft", "client", "server", "archive", "photo", "summary", "invoice", "meeting", "project", "deadline",
    "network", "storage", "offline", "link", "share", "report", "plan", "weekly", "notes", "roadmap", "design",
];

fn sentence(rng: &mut Rng) -> String {
    let n = 6 + rng.below(10) as usize;
    let mut words: Vec<&str> = (0..n).map(|_| rng.pick(WORDS)).collect();
    let mut first = words[0].to_string();
    first[..1].make_ascii_uppercase();
    words[0] = &first;
    format!("{}.", words.join(" "))
}

fn paragraph(rng: &mut Rng, sentences: usize) -> String {
    (0..sentences).map(|_| sentence(rng)).collect::<Vec<_>>().join(" ")
}

fn markdown(title: &str, seed: u64, sections: usize) -> String {
    let mut rng = Rng(seed);
    let mut out = format!("# {title}\n\n{}\n", paragraph(&mut rng, 3));
    for i in 1..=sections {
        out.push_str(&format!(
            "\n## {} {i}\n\n{}\n",
            rng.pick(&["Notes", "Actions", "Open questions", "Decisions"]),
            paragraph(&mut rng, 4)
        ));
        for _ in 0..3 {
            out.push_str(&format!("- {}\n", sentence(&mut rng)));
        }
    }
    out
}

fn csv(header: &[&str], rows: usize, seed: u64) -> String {
    let mut rng = Rng(seed);
    let mut out = header.join(",") + "\n";
    for r in 0..rows {
        let day = BASE_TIME / DAY - 400 + r as i64;
        let mut row = vec![format!("day-{day}")];
        row.extend((1..header.len()).map(|_| format!("{}.{:02}", rng.below(1000), rng.below(100))));
        out.push_str(&(row.join(",") + "\n"));
    }
    out
}

fn rust_source(name: &str, seed: u64) -> String {
    let mut rng = Rng(seed);
    let mut out = format!("//! {}\n\nuse std::collections::HashMap;\n\n", sentence(&mut rng));
    for i in 0..(3 + rng.below(5)) {
        let f = format!("{}_{}", rng.pick(WORDS), rng.pick(WORDS));
        out.push_str(&format!(
            "/// {}\npub fn {f}_{i}(items: &HashMap<String, u64>) -> u64 {{\n    items.values().filter(|v| **v > {}).sum()\n}}\n\n",
            sentence(&mut rng),
            rng.below(100)
        ));
    }
    out.push_str(&format!("#[cfg(test)]\nmod tests {{\n    // Tests for {name}.\n}}\n"));
    out
}

/// A one-page PDF with a title and lines of text.
fn pdf(title: &str, lines: &[String]) -> Vec<u8> {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)");
    let mut text = format!("BT /F1 20 Tf 72 760 Td ({}) Tj ET\n", esc(title));
    for (i, l) in lines.iter().take(40).enumerate() {
        text.push_str(&format!("BT /F1 11 Tf 72 {} Td ({}) Tj ET\n", 730 - 16 * i as i64, esc(l)));
    }
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        format!("<< /Length {} >>\nstream\n{text}endstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

/// A landscape: a sky gradient, a sun, and layers of hills, colours from the seed.
fn picture(w: u32, h: u32, seed: u64) -> RgbImage {
    let mut rng = Rng(seed);
    let sky_top = [rng.below(90) as f32, 80.0 + rng.below(100) as f32, 150.0 + rng.below(105) as f32];
    let sky_low = [200.0 + rng.below(55) as f32, 150.0 + rng.below(80) as f32, 120.0 + rng.below(80) as f32];
    let (sun_x, sun_y, sun_r) = (
        rng.below(w as u64) as f32,
        (h / 8) as f32 + rng.below(h as u64 / 3) as f32,
        (h / 14) as f32 + rng.below(20) as f32,
    );
    let hills: Vec<(f32, f32, f32, [u8; 3])> = (0..3)
        .map(|i| {
            let base = h as f32 * (0.55 + 0.13 * i as f32);
            let amp = 20.0 + rng.below(40) as f32;
            let freq = 0.005 + rng.below(100) as f32 / 10_000.0;
            let g = (60 + 40 * i) as u8;
            (base, amp, freq, [g / 3, g + rng.below(60) as u8, g / 2])
        })
        .collect();
    RgbImage::from_fn(w, h, |x, y| {
        let (xf, yf) = (x as f32, y as f32);
        let mut px = None;
        for (base, amp, freq, colour) in hills.iter().rev() {
            if yf > base + amp * (xf * freq + base).sin() {
                px = Some(*colour);
                break;
            }
        }
        let px = px.unwrap_or_else(|| {
            if (xf - sun_x).hypot(yf - sun_y) < sun_r {
                [255, 230, 150]
            } else {
                let t = yf / h as f32;
                [0, 1, 2].map(|c| (sky_top[c] * (1.0 - t) + sky_low[c] * t) as u8)
            }
        });
        Rgb(px)
    })
}

/// A screenshot-like picture: a window with a title bar, a sidebar and rows.
fn screenshot(w: u32, h: u32, seed: u64) -> RgbImage {
    let mut rng = Rng(seed);
    let accent = [rng.below(200) as u8, 80 + rng.below(120) as u8, 150 + rng.below(100) as u8];
    let rows = 8 + rng.below(10) as u32;
    RgbImage::from_fn(w, h, |x, y| {
        Rgb(if y < 28 {
            accent
        } else if x < w / 4 {
            [36, 40, 48]
        } else if (y - 28) % (h / rows).max(1) < 2 {
            [220, 220, 225]
        } else {
            [248, 248, 250]
        })
    })
}

fn encode_jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    // Encoding an in-memory RGB image to a Vec cannot fail.
    let _ = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality).encode_image(img);
    out
}

fn encode_png(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = image::codecs::png::PngEncoder::new(&mut out).write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    );
    out
}

/// The thumbnail (120×120, centre crop) and preview (at most 1000 px) MEGA clients show.
fn file_attributes(img: &RgbImage) -> Vec<(u32, Vec<u8>)> {
    let side = img.width().min(img.height());
    let crop = image::imageops::crop_imm(img, (img.width() - side) / 2, (img.height() - side) / 2, side, side);
    let thumb = image::imageops::thumbnail(&*crop, 120, 120);
    let scale = (1000.0 / img.width().max(img.height()) as f32).min(1.0);
    let preview = image::imageops::thumbnail(
        img,
        ((img.width() as f32 * scale) as u32).max(1),
        ((img.height() as f32 * scale) as u32).max(1),
    );
    vec![(0, encode_jpeg(&thumb, 80)), (1, encode_jpeg(&preview, 80))]
}

fn wav(seed: u64, seconds: u32) -> Vec<u8> {
    let mut rng = Rng(seed);
    let rate = 22_050u32;
    let notes: Vec<f32> = (0..8).map(|_| [262.0, 294.0, 330.0, 392.0, 440.0, 523.0][rng.below(6) as usize]).collect();
    let n = rate * seconds;
    let mut out = Vec::with_capacity(44 + 2 * n as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + 2 * n).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(2 * n).to_le_bytes());
    for i in 0..n {
        let note = notes[(i * notes.len() as u32 / n) as usize];
        let t = i as f32 / rate as f32;
        let v = (t * note * std::f32::consts::TAU).sin() * 9000.0 * (1.0 - (t * 4.0).fract() * 0.5);
        out.extend_from_slice(&(v as i16).to_le_bytes());
    }
    out
}

/// Pseudo-random bytes generated on demand: byte `i` comes from word `i / 8` of the stream.
struct Synthetic {
    size: u64,
    seed: u64,
    pos: u64,
}

impl Read for Synthetic {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (self.size.saturating_sub(self.pos)).min(buf.len() as u64) as usize;
        let mut i = 0;
        while i < n {
            let at = self.pos + i as u64;
            let word = mix(self.seed ^ (at / 8)).to_le_bytes();
            let off = (at % 8) as usize;
            let take = (8 - off).min(n - i);
            buf[i..i + take].copy_from_slice(&word[off..off + take]);
            i += take;
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Synthetic {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.pos = match to {
            SeekFrom::Start(p) => p,
            SeekFrom::End(d) => self.size.saturating_add_signed(d),
            SeekFrom::Current(d) => self.pos.saturating_add_signed(d),
        };
        Ok(self.pos)
    }
}

fn planned(path: impl Into<String>, content: Content, age_days: i64) -> Planned {
    Planned { path: path.into(), content, mtime: BASE_TIME - age_days * DAY - 3_600 * (age_days % 13) }
}

/// The demo account's files.
fn plan() -> Vec<Planned> {
    let mut p = Vec::new();
    let mut rng = Rng(2025);
    for q in 1..=4 {
        let lines: Vec<String> = (0..20).map(|_| sentence(&mut rng)).collect();
        p.push(planned(
            format!("/Documents/Work/Reports 2025/Q{q} report.pdf"),
            Content::Pdf(format!("Quarterly report, Q{q} 2025"), lines),
            300 - 70 * q,
        ));
    }
    p.push(planned(
        "/Documents/Work/Reports 2025/summary.csv",
        Content::Text(csv(&["day", "uploads", "downloads", "storage_gb"], 120, 7)),
        20,
    ));
    for i in 1..=48 {
        let lines = vec![
            format!("Invoice 2025-{i:03}"),
            format!("Amount due: {}.{:02} NZD", 100 + rng.below(4000), rng.below(100)),
            sentence(&mut rng),
        ];
        p.push(planned(
            format!("/Documents/Work/Invoices/invoice-2025-{i:03}.pdf"),
            Content::Pdf(format!("Invoice 2025-{i:03}"), lines),
            320 - 6 * i,
        ));
    }
    for i in 0..24 {
        let day = 300 - 12 * i;
        p.push(planned(
            format!("/Documents/Work/Meeting notes/standup-{:03}.md", i + 1),
            Content::Text(markdown(&format!("Stand-up #{}", i + 1), 100 + i as u64, 2)),
            day,
        ));
    }
    p.push(planned(
        PROTECTED_LINK_PATH,
        Content::Pdf("Curriculum vitae".into(), (0..25).map(|_| sentence(&mut rng)).collect()),
        90,
    ));
    p.push(planned(
        "/Documents/Personal/budget-2025.csv",
        Content::Text(csv(&["month", "rent", "food", "travel"], 12, 9)),
        40,
    ));
    p.push(planned("/Documents/Personal/passport-scan.jpg", Content::Jpeg { w: 800, h: 560, seed: 77 }, 400));
    for (i, dish) in [
        "Pavlova",
        "Hangi",
        "Kumara soup",
        "Fish and chips",
        "Lamington",
        "Pikelets",
        "Mince pie",
        "Afghan biscuits",
        "Hokey pokey",
        "Whitebait fritters",
        "Anzac biscuits",
        "Louise cake",
    ]
    .iter()
    .enumerate()
    {
        p.push(planned(
            format!("/Documents/Personal/Recipes/{dish}.txt"),
            Content::Text(format!("{dish}\n\n{}\n", paragraph(&mut rng, 6))),
            500 - 30 * i as i64,
        ));
    }
    // Duplicate names: two files called report.pdf in one folder (the second is added apart,
    // see `seed_account`), and two folders called Notes.
    p.push(planned(
        "/Documents/report.pdf",
        Content::Pdf("Report (first draft)".into(), vec![sentence(&mut rng)]),
        200,
    ));
    let photo_sets: [(&str, u32, i64); 3] =
        [("/Photos/2023/Summer", 30, 800), ("/Photos/2024/Winter", 30, 500), ("/Photos/2025", 25, 200)];
    for (folder, count, age) in photo_sets {
        for i in 1..=count {
            let seed = mix(age as u64 * 1000 + i as u64);
            let (w, h) = if i % 5 == 0 { (480, 640) } else { (640, 480) };
            p.push(planned(
                format!("{folder}/IMG_{}{i:02}.jpg", age / 10),
                Content::Jpeg { w, h, seed },
                age - i as i64 * 3,
            ));
        }
    }
    for i in 1..=15 {
        p.push(planned(
            format!("/Photos/2024/Screenshots/Screenshot 2024-{:02}-{:02}.png", 1 + i % 12, 1 + (i * 7) % 28),
            Content::Png { w: 800, h: 500, seed: 900 + i as u64 },
            480 - 10 * i as i64,
        ));
    }
    for i in 1..=8 {
        p.push(planned(
            format!("/Camera Uploads/PXL_2025110{i}.jpg"),
            Content::Jpeg { w: 640, h: 480, seed: 5000 + i },
            10 - i as i64,
        ));
    }
    // A short video the viewer plays: 3 s of a bouncing ball, VP8 in WebM (its making is in
    // tests/e2e/assets/README.md).
    p.push(planned("/Camera Uploads/PXL_20251109_clip.webm", Content::Bytes(include_bytes!("../assets/clip.webm")), 1));
    let album = "/Music/The Loopbacks/Localhost (2024)";
    for (i, title) in [
        "Handshake",
        "127.0.0.1",
        "Keep-Alive",
        "Chunked",
        "Range Request",
        "Hashcash",
        "Long Poll",
        "Action Packets",
        "Resume",
        "Verified",
    ]
    .iter()
    .enumerate()
    {
        p.push(planned(
            format!("{album}/{:02} {title}.wav", i + 1),
            Content::Wav { seed: 300 + i as u64, seconds: 3 },
            700,
        ));
    }
    p.push(planned(
        "/Music/playlist.m3u",
        Content::Text("#EXTM3U\nThe Loopbacks/Localhost (2024)/01 Handshake.wav\n".into()),
        600,
    ));
    for (i, m) in [
        "api",
        "tree",
        "transfer",
        "journal",
        "links",
        "session",
        "quota",
        "events",
        "crypto",
        "names",
        "scheduler",
        "limits",
        "config",
        "errors",
        "main",
    ]
    .iter()
    .enumerate()
    {
        p.push(planned(
            format!("/Projects/tuatara/src/{m}.rs"),
            Content::Text(rust_source(m, 40 + i as u64)),
            30 + i as i64,
        ));
    }
    for (i, d) in ["architecture", "protocol", "transfers", "links", "faq"].iter().enumerate() {
        p.push(planned(format!("/Projects/tuatara/docs/{d}.md"), Content::Text(markdown(d, 60 + i as u64, 3)), 25));
    }
    p.push(planned("/Projects/tuatara/README.md", Content::Text(markdown("Tuatara", 1, 2)), 5));
    p.push(planned(
        "/Projects/tuatara/Cargo.toml",
        Content::Text("[package]\nname = \"tuatara\"\nversion = \"0.1.0\"\nedition = \"2021\"\n".into()),
        5,
    ));
    p.push(planned(
        "/Projects/website/index.html",
        Content::Text(format!("<!doctype html>\n<html><head><title>Tuatara</title><link rel=stylesheet href=style.css></head>\n<body><h1>Tuatara</h1><p>{}</p></body></html>\n", paragraph(&mut rng, 3))),
        15,
    ));
    p.push(planned(
        "/Projects/website/style.css",
        Content::Text("body { font-family: sans-serif; margin: 2em; }\nh1 { color: #2a6; }\n".into()),
        15,
    ));
    p.push(planned(
        "/Projects/website/settings.json",
        Content::Text(
            "{\n  \"theme\": \"dark\",\n  \"connections\": 8,\n  \"limits\": {\"up\": 0, \"down\": 0}\n}\n".into(),
        ),
        15,
    ));
    p.push(planned("/Projects/website/logo.png", Content::Png { w: 256, h: 256, seed: 4242 }, 15));
    for i in 1..=30 {
        p.push(planned(
            format!("/Datasets/measurements/day-{i:03}.csv"),
            Content::Text(csv(&["hour", "temp_c", "humidity", "wind_kmh"], 24, 1000 + i as u64)),
            60 - i as i64,
        ));
    }
    p.push(planned(FILE_LINK_PATH, Content::Synthetic { size: 52_000_000, seed: 52 }, 100));
    p.push(planned("/Datasets/sensor-log-2024.dat", Content::Synthetic { size: 150_000_000, seed: 150 }, 300));
    p.push(planned("/Backups/laptop-2025-10.img", Content::Synthetic { size: 480_000_000, seed: 480 }, 25));
    p.push(planned(
        "/Backups/contacts.vcf",
        Content::Text("BEGIN:VCARD\nVERSION:3.0\nFN:Kiri Tuatara\nEMAIL:kiri@example.org\nEND:VCARD\n".into()),
        25,
    ));
    // Moved to the rubbish bin after seeding.
    p.push(planned("/Documents/old-draft.md", Content::Text(markdown("Old draft", 5, 1)), 900));
    p.push(planned("/Datasets/temp-export.csv", Content::Text(csv(&["a", "b"], 10, 3)), 100));
    for i in 1..=4 {
        p.push(planned(
            format!("/Photos/Old screenshots/old-{i}.png"),
            Content::Png { w: 640, h: 400, seed: 700 + i },
            1000,
        ));
    }
    p
}

/// The friend's shared folder.
fn friend_plan() -> Vec<Planned> {
    let mut p = vec![
        planned(format!("/{SHARED_FOLDER}/itinerary.md"), Content::Text(markdown("Wanaka, five days", 11, 5)), 30),
        planned(
            format!("/{SHARED_FOLDER}/budget.csv"),
            Content::Text(csv(&["day", "fuel", "food", "huts"], 5, 12)),
            30,
        ),
    ];
    for i in 1..=6 {
        p.push(planned(
            format!("/{SHARED_FOLDER}/photos/wanaka-{i:02}.jpg"),
            Content::Jpeg { w: 640, h: 480, seed: 8000 + i },
            20,
        ));
    }
    p
}

/// The friend's folder shared as the official apps share today.
fn app_share_plan() -> Vec<Planned> {
    vec![
        planned(format!("/{APP_SHARED_FOLDER}/gear-list.md"), Content::Text(markdown("Gear list", 21, 3)), 10),
        planned(format!("/{APP_SHARED_FOLDER}/lift-pass.csv"), Content::Text(csv(&["day", "price"], 3, 22)), 10),
    ]
}

/// Generates and encrypts one planned file (no lock held).
fn prepare(dir: &std::path::Path, p: &Planned) -> Result<Prepared, SeedError> {
    let (data, attrs) = match &p.content {
        Content::Synthetic { size, seed } => {
            let mut src = Synthetic { size: *size, seed: *seed, pos: 0 };
            return seed::prepare_file(dir, &mut src, *size, p.mtime);
        }
        Content::Text(t) => (t.clone().into_bytes(), Vec::new()),
        Content::Bytes(b) => (b.to_vec(), Vec::new()),
        Content::Pdf(title, lines) => (pdf(title, lines), Vec::new()),
        Content::Wav { seed, seconds } => (wav(*seed, *seconds), Vec::new()),
        Content::Jpeg { w, h, seed } => {
            let img = picture(*w, *h, *seed);
            (encode_jpeg(&img, 85), file_attributes(&img))
        }
        Content::Png { w, h, seed } => {
            let img = screenshot(*w, *h, *seed);
            (encode_png(&img), file_attributes(&img))
        }
    };
    let size = data.len() as u64;
    let mut prepared = seed::prepare_file(dir, &mut std::io::Cursor::new(data), size, p.mtime)?;
    prepared.file_attrs = attrs;
    Ok(prepared)
}

/// Prepares every planned file on all cores, in plan order.
fn prepare_all(dir: &std::path::Path, plan: &[Planned]) -> Result<Vec<Prepared>, SeedError> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).min(plan.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Result<Prepared, SeedError>>>> =
        plan.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(p) = plan.get(i) else { break };
                let r = prepare(dir, p);
                *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            });
        }
    });
    results
        .into_iter()
        .map(|m| {
            m.into_inner().unwrap_or_else(|e| e.into_inner()).unwrap_or(Err(SeedError::BadPath("not prepared".into())))
        })
        .collect()
}

/// Seeds the demo accounts in `store` (already created), generating content without the lock.
pub(crate) fn seed(store: &std::sync::Mutex<Store>) -> Result<(), SeedError> {
    let lock = || store.lock().unwrap_or_else(|e| e.into_inner());
    let (dir, user, friend) = {
        let s = lock();
        let user = *s.by_email.get(EMAIL).ok_or_else(|| SeedError::NoAccount(EMAIL.into()))?;
        let friend = *s.by_email.get(FRIEND_EMAIL).ok_or_else(|| SeedError::NoAccount(FRIEND_EMAIL.into()))?;
        (s.dir.clone(), user, friend)
    };
    let plan = plan();
    let official = lock().official_apps;
    let mut friend_plan = friend_plan();
    if official {
        friend_plan.extend(app_share_plan());
    }
    let prepared = prepare_all(&dir, &plan)?;
    let friend_prepared = prepare_all(&dir, &friend_plan)?;
    let second_report = prepare(
        &dir,
        &planned("/Documents/report.pdf", Content::Pdf("Report (final)".into(), vec!["Final version.".into()]), 150),
    )?;
    let mut s = lock();
    for (p, file) in plan.iter().zip(prepared) {
        seed::insert_file(&mut s, user, &p.path, file)?;
    }
    let docs = seed::find_path(&s, user, "/Documents").ok_or_else(|| SeedError::BadPath("/Documents".into()))?;
    seed::insert_file_under(&mut s, user, docs, "report.pdf", second_report);
    seed::create_folder(&mut s, user, docs, "Notes");
    seed::create_folder(&mut s, user, docs, "Notes");
    for (p, file) in friend_plan.iter().zip(friend_prepared) {
        seed::insert_file(&mut s, friend, &p.path, file)?;
    }
    for path in ["/Documents/old-draft.md", "/Datasets/temp-export.csv", "/Photos/Old screenshots"] {
        let h = seed::find_path(&s, user, path).ok_or_else(|| SeedError::BadPath(path.into()))?;
        seed::move_to_rubbish(&mut s, user, h).ok_or_else(|| SeedError::BadPath(path.into()))?;
    }
    let shared = seed::find_path(&s, friend, SHARED_FOLDER).ok_or_else(|| SeedError::BadPath(SHARED_FOLDER.into()))?;
    // Made before the switch applies, so that it stays the documented legacy share.
    s.official_apps = false;
    let legacy = seed::share_with(&mut s, friend, shared, user, 0);
    s.official_apps = official;
    legacy.ok_or_else(|| SeedError::BadPath(SHARED_FOLDER.into()))?;
    if official {
        let bad = || SeedError::BadPath(APP_SHARED_FOLDER.into());
        let app_shared = seed::find_path(&s, friend, APP_SHARED_FOLDER).ok_or_else(bad)?;
        seed::share_with(&mut s, friend, app_shared, user, 0).ok_or_else(bad)?;
        let music = seed::find_path(&s, user, APP_FOLDER_LINK_PATH).ok_or_else(|| bad_path(APP_FOLDER_LINK_PATH))?;
        seed::folder_link(&mut s, user, music).ok_or_else(|| bad_path(APP_FOLDER_LINK_PATH))?;
    }
    Ok(())
}

fn bad_path(p: &str) -> SeedError {
    SeedError::BadPath(p.into())
}

/// The demo's links and counts, from the store (after seeding, or loaded from `--data`). The
/// documented links are the legacy ones whatever [`Store::official_apps`] says.
pub(crate) fn describe(store: &mut Store) -> Result<Demo, SeedError> {
    let official = std::mem::replace(&mut store.official_apps, false);
    let demo = describe_links(store);
    store.official_apps = official;
    demo
}

fn describe_links(store: &mut Store) -> Result<Demo, SeedError> {
    let user = *store.by_email.get(EMAIL).ok_or_else(|| SeedError::NoAccount(EMAIL.into()))?;
    let find = |s: &Store, p: &str| seed::find_path(s, user, p).ok_or_else(|| SeedError::BadPath(p.into()));
    let folder = find(store, FOLDER_LINK_PATH)?;
    let file = find(store, FILE_LINK_PATH)?;
    let protected_file = find(store, PROTECTED_LINK_PATH)?;
    let bad = |p: &str| SeedError::BadPath(p.into());
    let folder_link = seed::folder_link(store, user, folder).ok_or_else(|| bad(FOLDER_LINK_PATH))?;
    // Only what was seeded so: describing never makes a new share of either kind.
    let app_folder_link = match find(store, APP_FOLDER_LINK_PATH) {
        Ok(music) if store.shares.get(&music).is_some_and(|s| s.ok.as_deref() == Some(crate::keys::DUMMY)) => {
            seed::folder_link(store, user, music)
        }
        _ => None,
    };
    let file_link = seed::file_link(store, user, file).ok_or_else(|| bad(FILE_LINK_PATH))?;
    let plain = seed::file_link(store, user, protected_file).ok_or_else(|| bad(PROTECTED_LINK_PATH))?;
    let link = mega_proto::link::parse_plain(&plain).map_err(|_| bad(PROTECTED_LINK_PATH))?;
    let protected_link =
        protected::encrypt(&link, LINK_PASSWORD, &mut rand_core::OsRng).map_err(|_| bad(PROTECTED_LINK_PATH))?;
    let account = &store.accounts[&user];
    let (mut files, mut bytes) = (0, 0);
    for root in [account.roots[0], account.roots[2]] {
        let (b, f, _) = store.usage(root);
        files += f as usize;
        bytes += b;
    }
    Ok(Demo { folder_link, file_link, protected_link, app_folder_link, files, bytes })
}
