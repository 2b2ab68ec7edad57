//! A small BPF assembler: instructions, and labels for forward jumps.

use super::error::IterError;
use super::record::rec;
use crate::sys::bpf::Insn;

/// The few instructions the program uses (Documentation/bpf/standardization/instruction-set.rst).
pub(super) mod op {
    pub const LDX_W: u8 = 0x61;
    pub const LDX_DW: u8 = 0x79;
    pub const STX_W: u8 = 0x63;
    pub const STX_DW: u8 = 0x7b;
    pub const OR64_IMM: u8 = 0x47;
    pub const ST_DW: u8 = 0x7a;
    pub const MOV64_IMM: u8 = 0xb7;
    pub const MOV64_REG: u8 = 0xbf;
    pub const ADD64_IMM: u8 = 0x07;
    pub const JA: u8 = 0x05;
    pub const JEQ_IMM: u8 = 0x15;
    pub const JEQ_REG: u8 = 0x1d;
    pub const JNE_IMM: u8 = 0x55;
    pub const JNE_REG: u8 = 0x5d;
    pub const JLT_IMM: u8 = 0xa5;
    pub const CALL: u8 = 0x85;
    pub const EXIT: u8 = 0x95;
}

pub(super) const FP: u8 = 10;

pub(super) fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | (dst & 0x0f),
        off,
        imm,
    }
}

/// Builds the program; jumps to labels are patched when the label is placed.
#[derive(Default)]
pub(super) struct Asm {
    code: Vec<Insn>,
    /// (instruction index, label) of forward jumps.
    fixups: Vec<(usize, usize)>,
    labels: Vec<Option<usize>>,
}

impl Asm {
    pub(super) fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }
    pub(super) fn place(&mut self, label: usize) {
        if let Some(l) = self.labels.get_mut(label) {
            *l = Some(self.code.len());
        }
    }
    pub(super) fn emit(&mut self, i: Insn) {
        self.code.push(i);
    }
    pub(super) fn jump(&mut self, code: u8, dst: u8, src: u8, imm: i32, label: usize) {
        self.fixups.push((self.code.len(), label));
        self.emit(insn(code, dst, src, 0, imm));
    }
    /// dst = *(u64 *)(src + off)
    pub(super) fn ld64(&mut self, dst: u8, src: u8, off: u32) {
        self.emit(insn(op::LDX_DW, dst, src, off as i16, 0));
    }
    /// dst = *(u32 *)(src + off)
    pub(super) fn ld32(&mut self, dst: u8, src: u8, off: u32) {
        self.emit(insn(op::LDX_W, dst, src, off as i16, 0));
    }
    /// record word `w` = src (u32)
    pub(super) fn put(&mut self, w: usize, src: u8) {
        self.emit(insn(op::STX_W, FP, src, word_off(w), 0));
    }
    /// The program, with every jump pointed at its label.
    pub(super) fn finish(mut self) -> Result<Vec<Insn>, IterError> {
        for (at, label) in std::mem::take(&mut self.fixups) {
            let target =
                self.labels.get(label).copied().flatten().ok_or_else(|| {
                    IterError::Assembly(format!("jump at {at} to an unplaced label"))
                })?;
            let off = i16::try_from(target as i64 - at as i64 - 1)
                .map_err(|_| IterError::Assembly(format!("jump at {at} too far")))?;
            if let Some(i) = self.code.get_mut(at) {
                i.off = off;
            }
        }
        Ok(self.code)
    }
}

/// Stack offset (from r10) of record word `w`.
pub(super) fn word_off(w: usize) -> i16 {
    (w as i64 * 4 - rec::BYTES as i64) as i16
}
