//! BTF, the kernel's description of its own types (Documentation/bpf/btf.rst,
//! include/uapi/linux/btf.h), read from /sys/kernel/btf/vmlinux to find the struct member
//! offsets a BPF task iterator program needs.
//!
//! Reading is one linear pass that records where each type record starts (a `Vec<u32>` indexed
//! by type id); lookups by name scan that index and compare names only for types of the wanted
//! kind. vmlinux has over 100k types, so building a name map would cost more than every lookup
//! the iterator needs. Only base BTF is understood: a module's split BTF continues vmlinux's type
//! ids and strings and is rejected or misread on its own.

use super::error::{SysError, SysResult};
use std::fmt;
use std::path::Path;

const MAGIC: u16 = 0xeb9f;
const VERSION: u8 = 1;
const HEADER_LEN: usize = 24;
/// `struct btf_type`: name_off, info, size_or_type.
const TYPE_LEN: usize = 12;
/// Longest chain of modifiers, nested arrays or anonymous members followed before giving up:
/// the kernel resolves types to a similar depth (MAX_RESOLVE_DEPTH in kernel/bpf/btf.c), and a
/// loop in malformed input must not hang us.
const MAX_DEPTH: u32 = 32;

const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_FWD: u32 = 7;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_FLOAT: u32 = 16;
const KIND_DECL_TAG: u32 = 17;
const KIND_TYPE_TAG: u32 = 18;
const KIND_ENUM64: u32 = 19;

/// What is wrong with a BTF blob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BtfError {
    /// Fewer bytes than the fixed header.
    #[error("{len} bytes is shorter than the {HEADER_LEN}-byte BTF header")]
    TooShort { len: usize },
    /// Larger than the u32 offsets of the index can address.
    #[error("{len} bytes is too large for BTF (at most 4 GiB)")]
    TooLarge { len: usize },
    /// Not BTF, or BTF of the other endianness.
    #[error("bad magic {magic:#06x}, want {MAGIC:#06x} (not BTF, or the other endianness)")]
    BadMagic { magic: u16 },
    /// A BTF version this reader does not know.
    #[error("BTF version {version}, only version {VERSION} is known")]
    BadVersion { version: u8 },
    /// `hdr_len` smaller than the header or past the end of the data.
    #[error("header length {hdr_len} is out of range for {len} bytes")]
    BadHeaderLen { hdr_len: u32, len: usize },
    /// The type or string section does not fit in the data.
    #[error("{section} section at {off}+{size} after the header runs past the end of {len} bytes")]
    SectionOutOfRange {
        section: &'static str,
        off: u32,
        size: u32,
        len: usize,
    },
    /// The string section does not start and end with a NUL byte.
    #[error("string section of {size} bytes does not start and end with a NUL byte")]
    BadStrings { size: u32 },
    /// A type record (or its kind-specific data) runs past the end of the type section.
    #[error("type {id} at byte {pos} of the type section is truncated")]
    TruncatedType { id: u32, pos: usize },
    /// A kind this reader does not know; its record length is unknown, so nothing after it can
    /// be read.
    #[error("type {id} has unknown kind {kind}")]
    UnknownKind { id: u32, kind: u32 },
    /// A type's name offset points past the string section.
    #[error("type {id}: name offset {name_off} is past the {size}-byte string section")]
    NameOutOfRange { id: u32, name_off: u32, size: u32 },
}

/// What a member's type is, after skipping typedef, const, volatile, restrict and type_tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// An integer (INT).
    Int,
    /// A pointer (PTR).
    Ptr,
    /// A struct (STRUCT).
    Struct,
    /// A union (UNION).
    Union,
    /// An array (ARRAY).
    Array,
    /// An enum (ENUM or ENUM64).
    Enum,
    /// Anything else (FLOAT, FWD, FUNC_PROTO...).
    Other,
}

impl FieldKind {
    fn of(kind: u32) -> FieldKind {
        match kind {
            KIND_INT => FieldKind::Int,
            KIND_PTR => FieldKind::Ptr,
            KIND_STRUCT => FieldKind::Struct,
            KIND_UNION => FieldKind::Union,
            KIND_ARRAY => FieldKind::Array,
            KIND_ENUM | KIND_ENUM64 => FieldKind::Enum,
            _ => FieldKind::Other,
        }
    }
}

/// A member reached by a path of member names from a struct: byte offset from the start of
/// the outer struct, byte size of the member's type (ptr = 8, int = its size, struct/union = size,
/// array = nelems * elem size, enum = size), kind after skipping typedef/const/volatile/restrict/type_tag,
/// and its resolved type id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Byte offset from the start of the outermost struct.
    pub offset: u32,
    /// Byte size of the member's type.
    pub size: u32,
    /// The member type's kind, modifiers skipped.
    pub kind: FieldKind,
    /// The member's type id, modifiers skipped.
    pub type_id: u32,
}

/// Parsed BTF: the raw bytes plus the byte offset of every type record.
pub struct Btf {
    data: Vec<u8>,
    /// Byte range of the string section in `data`.
    strs_start: usize,
    strs_end: usize,
    /// `offsets[id]` is the byte offset in `data` of type `id`'s record; `offsets[0]` stands for
    /// void, which has no record.
    offsets: Vec<u32>,
}

impl fmt::Debug for Btf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Btf")
            .field("bytes", &self.data.len())
            .field("types", &self.offsets.len().saturating_sub(1))
            .finish()
    }
}

/// One type record, its fields decoded.
#[derive(Debug, Clone, Copy)]
struct Type {
    name_off: u32,
    info: u32,
    size_or_type: u32,
    /// Byte offset in `data` of the kind-specific data following the record.
    extra: usize,
}

impl Type {
    fn kind(&self) -> u32 {
        (self.info >> 24) & 0x1f
    }
    fn vlen(&self) -> usize {
        (self.info & 0xffff) as usize
    }
    fn kind_flag(&self) -> bool {
        self.info >> 31 == 1
    }
}

/// A struct/union member found by name.
#[derive(Debug, Clone, Copy)]
struct Member {
    /// Bit offset from the start of the struct searched.
    bit_off: u32,
    type_id: u32,
    bitfield: bool,
}

fn read_u32(data: &[u8], pos: usize) -> Option<u32> {
    let bytes = data.get(pos..pos.checked_add(4)?)?;
    Some(u32::from_ne_bytes(bytes.try_into().ok()?))
}

/// Byte length of the kind-specific data after a record of `kind` with `vlen` entries
/// (btf.rst, "BTF Type and String Encoding"); None for a kind this reader does not know.
fn extra_len(kind: u32, vlen: usize) -> Option<usize> {
    Some(match kind {
        KIND_INT | KIND_VAR | KIND_DECL_TAG => 4,
        KIND_ARRAY => 12,
        KIND_STRUCT | KIND_UNION | KIND_DATASEC | KIND_ENUM64 => vlen * 12,
        KIND_ENUM | KIND_FUNC_PROTO => vlen * 8,
        KIND_PTR | KIND_FWD | KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT
        | KIND_FUNC | KIND_FLOAT | KIND_TYPE_TAG => 0,
        _ => return None,
    })
}

/// The byte offset (`base` + offset in `types`) of every record of the type section, indexed
/// by type id; entry 0 stands for void. Checks each record's name offset and kind-specific
/// length, nothing else: this one pass is most of the cost of reading vmlinux.
fn index_types(types: &[u8], base: u32, str_size: u32) -> Result<Vec<u32>, BtfError> {
    // Every record is at least TYPE_LEN bytes: this capacity is never exceeded.
    let mut offsets = Vec::with_capacity(types.len() / TYPE_LEN + 1);
    offsets.push(0);
    let mut rest = types;
    while !rest.is_empty() {
        let id = offsets.len() as u32;
        let pos = types.len() - rest.len();
        let truncated = || BtfError::TruncatedType { id, pos };
        let (record, after) = rest.split_first_chunk::<TYPE_LEN>().ok_or_else(truncated)?;
        let [n0, n1, n2, n3, i0, i1, i2, i3, ..] = *record;
        let name_off = u32::from_ne_bytes([n0, n1, n2, n3]);
        let info = u32::from_ne_bytes([i0, i1, i2, i3]);
        if name_off >= str_size {
            return Err(BtfError::NameOutOfRange {
                id,
                name_off,
                size: str_size,
            });
        }
        let kind = (info >> 24) & 0x1f;
        let extra =
            extra_len(kind, (info & 0xffff) as usize).ok_or(BtfError::UnknownKind { id, kind })?;
        rest = after.get(extra..).ok_or_else(truncated)?;
        // pos + base < the data's length, which fits in u32.
        offsets.push(base + pos as u32);
    }
    Ok(offsets)
}

/// Section `off`+`size` after the header as a byte range of `len` bytes.
fn section(
    name: &'static str,
    hdr_len: usize,
    off: u32,
    size: u32,
    len: usize,
) -> Result<(usize, usize), BtfError> {
    let out_of_range = BtfError::SectionOutOfRange {
        section: name,
        off,
        size,
        len,
    };
    let start = hdr_len
        .checked_add(off as usize)
        .ok_or(out_of_range.clone())?;
    let end = start
        .checked_add(size as usize)
        .ok_or(out_of_range.clone())?;
    if end > len {
        return Err(out_of_range);
    }
    Ok((start, end))
}

impl Btf {
    /// Read and index a BTF file, normally /sys/kernel/btf/vmlinux.
    pub fn read(path: &Path) -> SysResult<Btf> {
        let bytes = std::fs::read(path).map_err(|e| SysError::io(path, e))?;
        Btf::parse(bytes).map_err(|e| SysError::parse(path, e.to_string()))
    }

    /// Check the header and sections of a BTF blob and index its type records.
    pub fn parse(data: Vec<u8>) -> Result<Btf, BtfError> {
        let len = data.len();
        if u32::try_from(len).is_err() {
            return Err(BtfError::TooLarge { len });
        }
        let header = data.get(..HEADER_LEN).ok_or(BtfError::TooShort { len })?;
        let word = |pos| read_u32(header, pos).ok_or(BtfError::TooShort { len });
        // magic (u16), version (u8), flags (u8) share the first word; split it in memory order.
        let [m0, m1, version, _flags] = word(0)?.to_ne_bytes();
        let magic = u16::from_ne_bytes([m0, m1]);
        if magic != MAGIC {
            return Err(BtfError::BadMagic { magic });
        }
        if version != VERSION {
            return Err(BtfError::BadVersion { version });
        }
        let hdr_len = word(4)?;
        if (hdr_len as usize) < HEADER_LEN || hdr_len as usize > len {
            return Err(BtfError::BadHeaderLen { hdr_len, len });
        }
        let hdr = hdr_len as usize;
        let (types_start, types_end) = section("type", hdr, word(8)?, word(12)?, len)?;
        let str_size = word(20)?;
        let (strs_start, strs_end) = section("string", hdr, word(16)?, str_size, len)?;
        // Offset 0 is the empty name (btf.rst); the last string must be terminated.
        let strs = data.get(strs_start..strs_end).unwrap_or_default();
        if strs.first() != Some(&0) || strs.last() != Some(&0) {
            return Err(BtfError::BadStrings { size: str_size });
        }

        let types = data.get(types_start..types_end).unwrap_or_default();
        // types_start <= len, which fits in u32 (checked above).
        let offsets = index_types(types, types_start as u32, str_size)?;
        Ok(Btf {
            data,
            strs_start,
            strs_end,
            offsets,
        })
    }

    /// Type id of the first STRUCT (kind 4) named `name` with at least one member (skip forward decls/empty).
    pub fn struct_id(&self, name: &str) -> Option<u32> {
        self.find(KIND_STRUCT, name, true)
    }

    /// Type id of the first FUNC (kind 12) named `name`.
    pub fn func_id(&self, name: &str) -> Option<u32> {
        self.find(KIND_FUNC, name, false)
    }

    /// Walk `path` from struct `struct_name`: each step finds the member by name in the current
    /// struct/union, searching recursively inside anonymous (name_off == 0) struct/union members and
    /// adding their offsets; the next step continues inside that member's type (after skipping
    /// typedef/const/volatile/restrict/type_tag), which must be a struct or union (NOT through a pointer).
    /// Bitfield members are an error/None (we never read them). Returns None when any name is missing.
    pub fn field(&self, struct_name: &str, path: &[&str]) -> Option<Field> {
        self.field_in(self.struct_id(struct_name)?, path)
    }

    /// For a PTR field: the struct/union type id it points to (skipping modifiers), if any.
    /// A pointer to a forward declaration gives the first complete struct/union of that name.
    pub fn pointee(&self, type_id: u32) -> Option<u32> {
        let (_, ptr) = self.resolve(type_id)?;
        if ptr.kind() != KIND_PTR {
            return None;
        }
        let (id, target) = self.resolve(ptr.size_or_type)?;
        match target.kind() {
            KIND_STRUCT | KIND_UNION => Some(id),
            KIND_FWD => {
                // kind_flag tells a union's forward declaration from a struct's (btf.rst).
                let kind = if target.kind_flag() {
                    KIND_UNION
                } else {
                    KIND_STRUCT
                };
                self.find_by_name_off(kind, target.name_off)
            }
            _ => None,
        }
    }

    /// Like `field` but starting from a struct/union type id.
    /// An empty `path` names no member and gives None.
    pub fn field_in(&self, type_id: u32, path: &[&str]) -> Option<Field> {
        let mut container = type_id;
        let mut bit_off = 0u32;
        let mut member_type = None;
        for step in path {
            if let Some(t) = member_type {
                container = t;
            }
            if step.is_empty() {
                return None;
            }
            let member = self.find_member(container, step.as_bytes(), 0)?;
            if member.bitfield {
                return None;
            }
            bit_off = bit_off.checked_add(member.bit_off)?;
            member_type = Some(member.type_id);
        }
        let (id, t) = self.resolve(member_type?)?;
        Some(Field {
            offset: bit_off / 8,
            size: self.size_of(id)?,
            kind: FieldKind::of(t.kind()),
            type_id: id,
        })
    }

    /// Element type's Field-like info for an ARRAY type id: (elem type id resolved, elem size, nelems).
    pub fn array(&self, type_id: u32) -> Option<(u32, u32, u32)> {
        let (_, t) = self.resolve(type_id)?;
        let (elem, nelems) = self.array_parts(&t)?;
        let (elem, _) = self.resolve(elem)?;
        Some((elem, self.size_of(elem)?, nelems))
    }

    /// Byte size of a type id after skipping modifiers (struct/union/int/enum size, ptr 8, array n*elem).
    pub fn size_of(&self, type_id: u32) -> Option<u32> {
        self.size_at(type_id, 0)
    }

    fn size_at(&self, type_id: u32, depth: u32) -> Option<u32> {
        if depth > MAX_DEPTH {
            return None;
        }
        let (_, t) = self.resolve(type_id)?;
        match t.kind() {
            KIND_INT | KIND_STRUCT | KIND_UNION | KIND_ENUM | KIND_ENUM64 | KIND_FLOAT => {
                Some(t.size_or_type)
            }
            // BTF does not record pointer size; the kernels we build BPF programs for are 64-bit.
            KIND_PTR => Some(8),
            KIND_ARRAY => {
                let (elem, nelems) = self.array_parts(&t)?;
                self.size_at(elem, depth + 1)?.checked_mul(nelems)
            }
            _ => None,
        }
    }

    /// `struct btf_array`'s element type and element count.
    fn array_parts(&self, t: &Type) -> Option<(u32, u32)> {
        if t.kind() != KIND_ARRAY {
            return None;
        }
        Some((self.word(t.extra, 0)?, self.word(t.extra, 2)?))
    }

    /// The record of type `id`; None for void (0) and ids past the last type.
    fn ty(&self, id: u32) -> Option<Type> {
        if id == 0 {
            return None;
        }
        let pos = *self.offsets.get(id as usize)? as usize;
        Some(Type {
            name_off: self.word(pos, 0)?,
            info: self.word(pos, 1)?,
            size_or_type: self.word(pos, 2)?,
            extra: pos.checked_add(TYPE_LEN)?,
        })
    }

    /// The `index`th u32 from byte `base` of the data.
    fn word(&self, base: usize, index: usize) -> Option<u32> {
        read_u32(&self.data, base.checked_add(index.checked_mul(4)?)?)
    }

    /// Follow typedef/const/volatile/restrict/type_tag to the type they name, at most
    /// MAX_DEPTH steps (a loop gives None).
    fn resolve(&self, mut id: u32) -> Option<(u32, Type)> {
        for _ in 0..=MAX_DEPTH {
            let t = self.ty(id)?;
            match t.kind() {
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    id = t.size_or_type
                }
                _ => return Some((id, t)),
            }
        }
        None
    }

    /// True when the string at `name_off` is exactly `name`.
    fn name_is(&self, name_off: u32, name: &[u8]) -> bool {
        let Some(start) = self.strs_start.checked_add(name_off as usize) else {
            return false;
        };
        let Some(s) = self.data.get(start..self.strs_end) else {
            return false;
        };
        s.get(..name.len()) == Some(name) && s.get(name.len()) == Some(&0)
    }

    /// The bytes of the NUL-terminated string at `name_off`, without the NUL.
    fn name_bytes(&self, name_off: u32) -> Option<&[u8]> {
        let start = self.strs_start.checked_add(name_off as usize)?;
        let s = self.data.get(start..self.strs_end)?;
        s.get(..s.iter().position(|&b| b == 0)?)
    }

    /// First type of `kind` named `name` (with members when `need_members`).
    fn find(&self, kind: u32, name: &str, need_members: bool) -> Option<u32> {
        let name = name.as_bytes();
        if name.is_empty() {
            return None;
        }
        self.offsets
            .iter()
            .enumerate()
            .skip(1)
            .find(|&(_, &pos)| {
                let pos = pos as usize;
                let Some(info) = self.word(pos, 1) else {
                    return false;
                };
                if (info >> 24) & 0x1f != kind || (need_members && info & 0xffff == 0) {
                    return false;
                }
                self.word(pos, 0)
                    .is_some_and(|name_off| self.name_is(name_off, name))
            })
            .and_then(|(id, _)| u32::try_from(id).ok())
    }

    /// First complete struct/union of `kind` with the name at `name_off`.
    fn find_by_name_off(&self, kind: u32, name_off: u32) -> Option<u32> {
        let name = std::str::from_utf8(self.name_bytes(name_off)?).ok()?;
        self.find(kind, name, true)
    }

    /// The member `name` of struct/union `id` (modifiers skipped), looking inside anonymous
    /// struct/union members too, as C does.
    fn find_member(&self, id: u32, name: &[u8], depth: u32) -> Option<Member> {
        if depth > MAX_DEPTH {
            return None;
        }
        let (_, t) = self.resolve(id)?;
        if !matches!(t.kind(), KIND_STRUCT | KIND_UNION) {
            return None;
        }
        for i in 0..t.vlen() {
            // struct btf_member: name_off, type, offset.
            let base = t.extra.checked_add(i.checked_mul(12)?)?;
            let m_name = self.word(base, 0)?;
            let m_type = self.word(base, 1)?;
            let m_off = self.word(base, 2)?;
            // With kind_flag the offset packs bitfield_size << 24 | bit_offset (btf.rst).
            let (bit_off, bitfield_size) = if t.kind_flag() {
                (m_off & 0xff_ffff, m_off >> 24)
            } else {
                (m_off, 0)
            };
            if m_name == 0 {
                if let Some(inner) = self.find_member(m_type, name, depth + 1) {
                    return Some(Member {
                        bit_off: bit_off.checked_add(inner.bit_off)?,
                        ..inner
                    });
                }
            } else if self.name_is(m_name, name) {
                let bitfield =
                    bitfield_size != 0 || bit_off % 8 != 0 || self.is_int_bitfield(m_type);
                return Some(Member {
                    bit_off,
                    type_id: m_type,
                    bitfield,
                });
            }
        }
        None
    }

    /// Without kind_flag a bitfield is an INT whose bit count or bit offset (the u32 after the
    /// record: encoding << 24 | offset << 16 | bits) does not cover its whole size.
    fn is_int_bitfield(&self, type_id: u32) -> bool {
        let Some((_, t)) = self.resolve(type_id) else {
            return false;
        };
        if t.kind() != KIND_INT {
            return false;
        }
        let Some(data) = self.word(t.extra, 0) else {
            return true;
        };
        let bits = data & 0xff;
        let offset = (data >> 16) & 0xff;
        offset != 0 || Some(bits) != t.size_or_type.checked_mul(8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// Emits a BTF blob: header, type section, string section.
    struct Builder {
        types: Vec<u8>,
        strs: Vec<u8>,
        next_id: u32,
    }

    impl Builder {
        fn new() -> Self {
            Builder {
                types: Vec::new(),
                strs: vec![0],
                next_id: 1,
            }
        }

        fn name(&mut self, name: &str) -> u32 {
            if name.is_empty() {
                return 0;
            }
            let off = self.strs.len() as u32;
            self.strs.extend_from_slice(name.as_bytes());
            self.strs.push(0);
            off
        }

        fn words(&mut self, words: &[u32]) {
            for w in words {
                self.types.extend_from_slice(&w.to_ne_bytes());
            }
        }

        /// A raw record; returns its id.
        fn raw(&mut self, name_off: u32, info: u32, size_or_type: u32, extra: &[u32]) -> u32 {
            self.words(&[name_off, info, size_or_type]);
            self.words(extra);
            self.next_id += 1;
            self.next_id - 1
        }

        fn ty(&mut self, name: &str, kind: u32, size_or_type: u32, extra: &[u32]) -> u32 {
            let n = self.name(name);
            self.raw(n, kind << 24, size_or_type, extra)
        }

        fn int(&mut self, name: &str, size: u32) -> u32 {
            self.ty(name, KIND_INT, size, &[size * 8])
        }

        /// A struct or union; members are (name, type, bit offset).
        fn composite(
            &mut self,
            kind: u32,
            name: &str,
            size: u32,
            kind_flag: bool,
            members: &[(&str, u32, u32)],
        ) -> u32 {
            let n = self.name(name);
            let mut extra = Vec::new();
            for (m, t, off) in members {
                extra.extend([self.name(m), *t, *off]);
            }
            let info = (kind_flag as u32) << 31 | kind << 24 | members.len() as u32;
            self.raw(n, info, size, &extra)
        }

        fn build(&self) -> Vec<u8> {
            let mut out = Vec::new();
            out.extend_from_slice(&MAGIC.to_ne_bytes());
            out.extend_from_slice(&[VERSION, 0]);
            for w in [
                HEADER_LEN as u32,
                0,
                self.types.len() as u32,
                self.types.len() as u32,
                self.strs.len() as u32,
            ] {
                out.extend_from_slice(&w.to_ne_bytes());
            }
            out.extend_from_slice(&self.types);
            out.extend_from_slice(&self.strs);
            out
        }
    }

    struct Ids {
        int: u32,
        long: u32,
        char_: u32,
        inner: u32,
        inner_chain: u32,
        outer: u32,
        name_array: u32,
        func: u32,
        fwd_ptr: u32,
        looped: u32,
    }

    /// A small BTF covering every kind the lookups follow:
    ///
    /// ```c
    /// struct outer;                       // forward declaration, and an empty one
    /// struct inner { int a; int b; };
    /// typedef struct inner inner_t;
    /// typedef const inner_t inner2_t;
    /// struct outer {
    ///     int id;                         // 0
    ///     union { long x; int y; };       // 8
    ///     char name[16];                  // 16
    ///     inner2_t nested;                // 32
    ///     struct outer *self;             // 40
    /// };                                  // 48
    /// struct bits { int flag:1; int whole; };
    /// typedef loop_a loop_b; typedef loop_b loop_a; struct looped { loop_a l; };
    /// int do_it(void);
    /// ```
    fn sample() -> (Vec<u8>, Ids) {
        let mut b = Builder::new();
        let fwd = b.ty("outer", KIND_FWD, 0, &[]);
        b.composite(KIND_STRUCT, "outer", 0, false, &[]);
        let fwd_ptr = b.ty("", KIND_PTR, fwd, &[]);
        let int = b.int("int", 4);
        let long = b.int("long", 8);
        let char_ = b.int("char", 1);
        let inner = b.composite(
            KIND_STRUCT,
            "inner",
            8,
            false,
            &[("a", int, 0), ("b", int, 32)],
        );
        let typedef = b.ty("inner_t", KIND_TYPEDEF, inner, &[]);
        let konst = b.ty("", KIND_CONST, typedef, &[]);
        let inner_chain = b.ty("inner2_t", KIND_TYPEDEF, konst, &[]);
        let anon = b.composite(KIND_UNION, "", 8, false, &[("x", long, 0), ("y", int, 0)]);
        let name_array = b.ty("", KIND_ARRAY, 0, &[char_, int, 16]);
        let outer_ptr = b.ty("", KIND_PTR, b.next_id + 1, &[]);
        let outer = b.composite(
            KIND_STRUCT,
            "outer",
            48,
            false,
            &[
                ("id", int, 0),
                ("", anon, 64),
                ("name", name_array, 128),
                ("nested", inner_chain, 256),
                ("self", outer_ptr, 320),
            ],
        );
        b.composite(
            KIND_STRUCT,
            "bits",
            8,
            true,
            &[("flag", int, 1 << 24), ("whole", int, 32)],
        );
        let loop_a = b.next_id;
        b.ty("loop_b", KIND_TYPEDEF, loop_a + 1, &[]);
        b.ty("loop_a", KIND_TYPEDEF, loop_a, &[]);
        let looped = b.composite(KIND_STRUCT, "looped", 4, false, &[("l", loop_a, 0)]);
        let proto = b.raw(0, KIND_FUNC_PROTO << 24, int, &[]);
        let func = b.ty("do_it", KIND_FUNC, proto, &[]);
        b.ty("e", KIND_ENUM, 4, &[]);
        let blob = b.build();
        let ids = Ids {
            int,
            long,
            char_,
            inner,
            inner_chain,
            outer,
            name_array,
            func,
            fwd_ptr,
            looped,
        };
        (blob, ids)
    }

    #[test]
    fn finds_structs_and_funcs_by_name_skipping_forward_declarations() {
        let (blob, ids) = sample();
        let btf = Btf::parse(blob).unwrap();
        assert_eq!(btf.struct_id("outer"), Some(ids.outer));
        assert_eq!(btf.struct_id("inner"), Some(ids.inner));
        assert_eq!(btf.struct_id("inner_t"), None, "a typedef is not a struct");
        assert_eq!(btf.struct_id("inn"), None, "a prefix is not a name");
        assert_eq!(btf.struct_id(""), None);
        assert_eq!(btf.func_id("do_it"), Some(ids.func));
        assert_eq!(btf.func_id("outer"), None);
    }

    #[test]
    fn walks_members_through_anonymous_unions_and_typedef_chains() {
        let (blob, ids) = sample();
        let btf = Btf::parse(blob).unwrap();
        let field = |path: &[&str]| btf.field("outer", path);
        let int = |offset, type_id, size| Field {
            offset,
            size,
            kind: FieldKind::Int,
            type_id,
        };
        assert_eq!(field(&["id"]), Some(int(0, ids.int, 4)));
        assert_eq!(field(&["x"]), Some(int(8, ids.long, 8)));
        assert_eq!(field(&["y"]), Some(int(8, ids.int, 4)));
        assert_eq!(
            field(&["nested"]),
            Some(Field {
                offset: 32,
                size: 8,
                kind: FieldKind::Struct,
                type_id: ids.inner
            })
        );
        assert_eq!(field(&["nested", "b"]), Some(int(36, ids.int, 4)));
        assert_eq!(btf.size_of(ids.inner_chain), Some(8));
        assert_eq!(field(&["missing"]), None);
        assert_eq!(field(&["nested", "missing"]), None);
        assert_eq!(field(&["id", "x"]), None, "an int has no members");
        assert_eq!(field(&[]), None);
        assert_eq!(btf.field("missing", &["id"]), None);
    }

    #[test]
    fn arrays_give_element_type_size_and_count() {
        let (blob, ids) = sample();
        let btf = Btf::parse(blob).unwrap();
        let name = btf.field("outer", &["name"]).unwrap();
        assert_eq!(
            name,
            Field {
                offset: 16,
                size: 16,
                kind: FieldKind::Array,
                type_id: ids.name_array
            }
        );
        assert_eq!(btf.array(name.type_id), Some((ids.char_, 1, 16)));
        assert_eq!(btf.array(ids.int), None);
    }

    #[test]
    fn pointers_lead_to_their_struct_but_paths_do_not_follow_them() {
        let (blob, ids) = sample();
        let btf = Btf::parse(blob).unwrap();
        let ptr = btf.field("outer", &["self"]).unwrap();
        assert_eq!((ptr.offset, ptr.size, ptr.kind), (40, 8, FieldKind::Ptr));
        assert_eq!(btf.pointee(ptr.type_id), Some(ids.outer));
        assert_eq!(btf.field("outer", &["self", "id"]), None);
        let id = btf.field_in(btf.pointee(ptr.type_id).unwrap(), &["id"]);
        assert_eq!(id.map(|f| f.offset), Some(0));
        assert_eq!(
            btf.pointee(ids.fwd_ptr),
            Some(ids.outer),
            "a pointer to a forward declaration resolves by name"
        );
        assert_eq!(btf.pointee(ids.int), None);
        assert_eq!(btf.size_of(ptr.type_id), Some(8));
    }

    #[test]
    fn bitfields_and_typedef_loops_give_none() {
        let (blob, ids) = sample();
        let btf = Btf::parse(blob).unwrap();
        assert_eq!(btf.field("bits", &["flag"]), None);
        assert_eq!(btf.field("bits", &["whole"]).map(|f| f.offset), Some(4));
        assert_eq!(btf.field("looped", &["l"]), None);
        assert_eq!(btf.size_of(ids.looped), Some(4));
        assert_eq!(btf.size_of(ids.looped + 100), None);
        assert_eq!(btf.size_of(0), None, "void has no size");
    }

    #[test]
    fn an_int_without_kind_flag_that_is_narrower_than_its_size_is_a_bitfield() {
        let mut b = Builder::new();
        let narrow = b.ty("unsigned int", KIND_INT, 4, &[3]);
        b.composite(KIND_STRUCT, "s", 4, false, &[("f", narrow, 0)]);
        let btf = Btf::parse(b.build()).unwrap();
        assert_eq!(btf.field("s", &["f"]), None);
    }

    #[test]
    fn malformed_headers_and_sections_are_errors() {
        let (blob, _) = sample();
        assert_eq!(
            Btf::parse(Vec::new()).unwrap_err(),
            BtfError::TooShort { len: 0 }
        );
        for n in 0..blob.len() {
            assert!(Btf::parse(blob[..n].to_vec()).is_err(), "truncated to {n}");
        }
        let mut swapped = blob.clone();
        swapped.swap(0, 1);
        assert!(matches!(
            Btf::parse(swapped).unwrap_err(),
            BtfError::BadMagic { .. }
        ));
        let mut version = blob.clone();
        version[2] = 2;
        assert_eq!(
            Btf::parse(version).unwrap_err(),
            BtfError::BadVersion { version: 2 }
        );
        let mut hdr = blob.clone();
        hdr[4..8].copy_from_slice(&8u32.to_ne_bytes());
        assert!(matches!(
            Btf::parse(hdr).unwrap_err(),
            BtfError::BadHeaderLen { hdr_len: 8, .. }
        ));
        let mut short_types = blob.clone();
        let type_len = u32::from_ne_bytes(blob[12..16].try_into().unwrap());
        short_types[12..16].copy_from_slice(&(type_len - 4).to_ne_bytes());
        assert!(matches!(
            Btf::parse(short_types).unwrap_err(),
            BtfError::TruncatedType { .. }
        ));
        let mut strings = blob.clone();
        *strings.last_mut().unwrap() = b'x';
        assert!(matches!(
            Btf::parse(strings).unwrap_err(),
            BtfError::BadStrings { .. }
        ));
    }

    #[test]
    fn unknown_kinds_and_names_past_the_strings_are_errors() {
        let mut b = Builder::new();
        b.int("int", 4);
        b.ty("", 20, 0, &[]);
        let err = Btf::parse(b.build()).unwrap_err();
        assert_eq!(err, BtfError::UnknownKind { id: 2, kind: 20 });
        assert_eq!(err.to_string(), "type 2 has unknown kind 20");

        let mut b = Builder::new();
        b.raw(1000, KIND_INT << 24, 4, &[32]);
        assert!(matches!(
            Btf::parse(b.build()).unwrap_err(),
            BtfError::NameOutOfRange { id: 1, .. }
        ));

        // Member names are not checked by parse; lookups just do not match them.
        let mut b = Builder::new();
        let int = b.int("int", 4);
        let s = b.name("s");
        b.raw(s, KIND_STRUCT << 24 | 1, 4, &[u32::MAX, int, 0]);
        let btf = Btf::parse(b.build()).unwrap();
        assert_eq!(btf.field("s", &["a"]), None);
    }

    /// Every single-byte corruption of the sample either fails to parse or parses into
    /// something every lookup survives.
    #[test]
    fn corrupted_blobs_never_panic() {
        let (blob, ids) = sample();
        for i in 0..blob.len() {
            for value in [0u8, 1, 0x7f, 0xff, blob[i] ^ 0x10] {
                let mut bad = blob.clone();
                bad[i] = value;
                let Ok(btf) = Btf::parse(bad) else { continue };
                for name in ["outer", "inner", "bits", "looped", "do_it"] {
                    btf.struct_id(name);
                    btf.func_id(name);
                }
                for path in [&["nested", "b"][..], &["x"], &["name"], &["self"]] {
                    btf.field("outer", path);
                }
                for id in 0..ids.func + 3 {
                    btf.pointee(id);
                    btf.array(id);
                    btf.size_of(id);
                    btf.field_in(id, &["id"]);
                }
            }
        }
    }

    #[test]
    fn reads_the_running_kernels_vmlinux() {
        let path = Path::new("/sys/kernel/btf/vmlinux");
        if !path.exists() {
            // The same rule as test_support::require_root: under CI=true a skip is a failure.
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but {} does not exist: this test cannot run",
                path.display()
            );
            eprintln!("skipped: {} does not exist", path.display());
            return;
        }
        let start = Instant::now();
        let btf = Btf::read(path).unwrap();
        let elapsed = start.elapsed();
        eprintln!(
            "read + parse of {}: {:.2} ms ({} bytes, {} types)",
            path.display(),
            elapsed.as_secs_f64() * 1000.0,
            btf.data.len(),
            btf.offsets.len() - 1
        );

        assert!(btf.func_id("bpf_iter_task").is_some());
        let pid = btf.field("task_struct", &["pid"]).unwrap();
        assert_eq!((pid.kind, pid.size), (FieldKind::Int, 4));
        let comm = btf.field("task_struct", &["comm"]).unwrap();
        assert_eq!((comm.kind, comm.size), (FieldKind::Array, 16));
        let nsproxy = btf.field("task_struct", &["nsproxy"]).unwrap();
        assert_eq!((nsproxy.kind, nsproxy.size), (FieldKind::Ptr, 8));
        assert!(btf.struct_id("nsproxy").is_some());
        assert_eq!(btf.pointee(nsproxy.type_id), btf.struct_id("nsproxy"));
        let inum = btf.field("net", &["ns", "inum"]).unwrap();
        assert_eq!((inum.kind, inum.size), (FieldKind::Int, 4));
        let numbers = btf.field("pid", &["numbers"]).unwrap();
        assert_eq!(numbers.kind, FieldKind::Array);
        let euid = btf.field("cred", &["euid", "val"]).unwrap();
        assert_eq!((euid.kind, euid.size), (FieldKind::Int, 4));
    }
}
