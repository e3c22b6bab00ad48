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

    /// <summary>True when this processor can run kernels of <paramref name="isa"/>.</summary>
    public static bool IsSupported(KernelIsa isa) => isa <= Best;
}
