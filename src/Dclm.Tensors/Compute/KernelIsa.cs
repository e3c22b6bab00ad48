using System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Compute;

/// <summary>Instruction-set levels the kernels are written for, lowest first.</summary>
internal enum KernelIsa
{
    /// <summary>Plain C#: the reference every other level is tested against.</summary>
    Scalar,
    /// <summary>AVX2 + FMA, 256-bit vectors.</summary>
    Avx2,
    /// <summary>AVX-512 F + BW, 512-bit vectors.</summary>
    Avx512,
}

internal static class KernelIsaInfo
{
    /// <summary>The highest level this processor runs.</summary>
    public static readonly KernelIsa Best =
        Avx512F.IsSupported && Avx512BW.IsSupported && Fma.IsSupported ? KernelIsa.Avx512
        : Avx2.IsSupported && Fma.IsSupported ? KernelIsa.Avx2
        : KernelIsa.Scalar;

    /// <summary>
    /// The level MatMul uses for weights of <paramref name="type"/> on this processor. Q4_K uses the
    /// 256-bit kernel even where AVX-512 runs: on Zen 4 (512-bit instructions run as two halves) it
    /// measured as fast as the 512-bit one, and it is the per-token arithmetic of the four-token prefill
    /// kernel, so a token's logits do not depend on whether it was decoded alone or in a batch. Q8_0
    /// and Q4_0 kernels give the same bits at every level (<see cref="BlockGroups"/>).
    /// </summary>
    public static KernelIsa BestFor(GgmlType type) =>
        Best == KernelIsa.Avx512 && type is GgmlType.Q4_K ? KernelIsa.Avx2 : Best;

    /// <summary>True when this processor can run kernels of <paramref name="isa"/>.</summary>
    public static bool IsSupported(KernelIsa isa) => isa <= Best;
}
