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
    /// AMD processors up to Zen 4 run 512-bit instructions as two 256-bit halves; there the 256-bit
    /// Q8_0/Q4_0 kernels, with fewer shuffles per block, measured faster than the 512-bit ones.
    /// </summary>
    public static readonly bool PreferNarrowBlockKernels = Best == KernelIsa.Avx512 && IsAmd();

    /// <summary>The level MatMul uses for weights of <paramref name="type"/> on this processor.</summary>
    public static KernelIsa BestFor(GgmlType type) =>
        PreferNarrowBlockKernels && type is GgmlType.Q8_0 or GgmlType.Q4_0 ? KernelIsa.Avx2 : Best;

    private static bool IsAmd()
    {
        if (!X86Base.IsSupported) return false;
        (_, int ebx, int ecx, int edx) = X86Base.CpuId(0, 0);
        // "AuthenticAMD" spread over ebx, edx, ecx.
        return ebx == 0x68747541 && edx == 0x69746E65 && ecx == 0x444D4163;
    }

    /// <summary>True when this processor can run kernels of <paramref name="isa"/>.</summary>
    public static bool IsSupported(KernelIsa isa) => isa <= Best;
}
