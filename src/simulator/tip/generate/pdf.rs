//! Tiny valid PDF documents (one page of text saying it is fictional), optionally padded
//! to a requested size with an unreferenced stream of random bytes.

use std::fmt::Write;

use super::rng::Rng;

/// A one-page PDF 1.4 showing `lines`, at least `min_size` bytes long.
pub(crate) fn document(rng: &mut Rng, lines: &[String], min_size: usize) -> Vec<u8> {
    let mut content = String::from("BT\n/F1 12 Tf\n72 720 Td\n14 TL\n");
    for line in lines {
        let _ = writeln!(content, "({}) '", escape(line));
    }
    content.push_str("ET\n");

    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
          /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_vec(),
        stream(content.as_bytes()),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
    ];

    let unpadded = assemble(&objects);
    if unpadded.len() >= min_size {
        return unpadded;
    }
    // The padding object's own framing makes the result a little larger than asked.
    let mut padding = vec![0u8; min_size - unpadded.len()];
    rng.fill(&mut padding);
    objects.push(stream(&padding));
    assemble(&objects)
}

fn assemble(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", index + 1).as_bytes());
        pdf.extend_from_slice(object);
        pdf.extend_from_slice(b"\nendobj\n");
    }

    let xref = pdf.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    pdf.extend_from_slice(table.as_bytes());
    pdf
}

fn stream(data: &[u8]) -> Vec<u8> {
    let mut object = format!("<< /Length {} >>\nstream\n", data.len()).into_bytes();
    object.extend_from_slice(data);
    object.extend_from_slice(b"\nendstream");
    object
}

/// A PDF string body: ASCII only, with `\`, `(` and `)` escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines() -> Vec<String> {
        vec![
            "Fictional (test) report".to_owned(),
            "Not a real event: café".to_owned(),
        ]
    }

    #[test]
    fn the_cross_reference_table_points_at_the_objects() {
        let pdf = document(&mut Rng::new(1, 0), &lines(), 0);
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        let tail = std::str::from_utf8(&pdf[pdf.len() - 40..]).unwrap();
        let startxref: usize = tail
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let table = std::str::from_utf8(&pdf[startxref..]).unwrap();
        assert!(table.starts_with("xref\n0 6\n"));
        for (number, entry) in table.lines().skip(3).take(5).enumerate() {
            let offset: usize = entry[..10].parse().unwrap();
            let header = format!("{} 0 obj\n", number + 1);
            assert!(pdf[offset..].starts_with(header.as_bytes()), "{entry}");
        }
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("(Fictional \\(test\\) report) '"));
        assert!(text.contains("caf?"));
    }

    #[test]
    fn padding_reaches_the_requested_size() {
        let pdf = document(&mut Rng::new(1, 0), &lines(), 100_000);
        assert!(pdf.len() >= 100_000, "{}", pdf.len());
        assert!(pdf.len() < 101_000, "{}", pdf.len());
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("xref\n0 7\n"));
    }
}
