//! The Image Resources section: we read only what changes how the rest is interpreted.

use super::bytes::{Cursor, padded};

/// Resource 1057, Version Info: its fifth byte says whether the Image Data section holds a
/// real composite of the layers ("maximize compatibility") or a blank placeholder.
const VERSION_INFO: u16 = 1057;

/// Whether the stored composite is a real rendering of the layers. Files without a Version
/// Info resource (GIMP, Krita, ours before it was written) are taken at their word: their
/// composite is real. An unreadable resource block ends the scan with that default.
pub fn has_real_composite(mut resources: Cursor<'_>) -> bool {
    while resources.remaining() >= 12 {
        let Some((id, mut data)) = next_resource(&mut resources) else {
            break;
        };
        if id == VERSION_INFO {
            let _version = data.u32("version info version");
            return data.u8("hasRealMergedData").map_or(true, |flag| flag != 0);
        }
    }
    true
}

/// Resource 1037, Global Angle: the light angle of effects that "use global light".
const GLOBAL_ANGLE: u16 = 1037;

/// The document's global light angle in degrees, if its resources say.
pub fn global_angle(mut resources: Cursor<'_>) -> Option<f32> {
    while resources.remaining() >= 12 {
        let (id, mut data) = next_resource(&mut resources)?;
        if id == GLOBAL_ANGLE {
            return data.i32("global angle").ok().map(|a| a as f32);
        }
    }
    None
}

/// One resource block: `8BIM`, `u16` id, Pascal name padded to even, `u32` size, data
/// padded to even (the padding not counted in the size).
fn next_resource<'a>(c: &mut Cursor<'a>) -> Option<(u16, Cursor<'a>)> {
    if &c.tag("resource signature").ok()? != b"8BIM" {
        return None;
    }
    let id = c.u16("resource id").ok()?;
    let name_len = u64::from(c.u8("resource name length").ok()?);
    c.skip(padded(name_len + 1, 2) - 1, "resource name").ok()?;
    let size = c.u32("resource size").ok()?;
    let data = c.section(u64::from(size), "the image resource").ok()?;
    c.skip_lenient(usize::from(size % 2 == 1));
    Some((id, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(id: u16, data: &[u8]) -> Vec<u8> {
        let mut out = b"8BIM".to_vec();
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(0);
        }
        out
    }

    #[test]
    fn version_info_flag_decides() {
        let mut bytes = block(1005, &[1, 2, 3]);
        assert!(has_real_composite(Cursor::new(&bytes)));
        bytes.extend(block(VERSION_INFO, &[0, 0, 0, 1, 0, 0]));
        assert!(!has_real_composite(Cursor::new(&bytes)));
        let real = block(VERSION_INFO, &[0, 0, 0, 1, 1]);
        assert!(has_real_composite(Cursor::new(&real)));
        assert!(has_real_composite(Cursor::new(b"garbage garbage")));
    }
}
