using System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Compute;

/// <summary>Instruction-set levels the kernels are written for.</summary>
internal enum KernelIsa
{
    /// <summary>Plain C#: the reference every other level is tested against.</summary>
    Scalar,
    /// <summary>AVX2 + FMA, 256-bit vectors; integer dot products with pmaddubsw + pmaddwd.</summary>
    Avx2,
    /// <summary>
    /// The AVX2 kernels with AVX-VNNI's vpdpbusd / vpdpwssd for the integer dot products (256-bit: .NET 10
    /// exposes no 512-bit VNNI; AVX512-VNNI has no API and AvxVnniInt8.V512 needs AVX10.2).
    /// </summary>
    AvxVnni,
    /// <summary>
    /// AVX-512 F + BW: 512-bit one-row kernels and Q4_0 tiles (sixteen tokens wide); the Q8_0 tiles and
    /// four-token kernels run their AVX2 form.
    /// </summary>
    Avx512,
}

internal static class KernelIsaInfo
{
    /// <summary>
    /// The widest level this process may use, from <see cref="MatMul.LevelLimitVariable"/>; every level when unset or
    /// not understood (then <see cref="LimitError"/> says why, and the command line stops with it).
    /// </summary>
    private static readonly (KernelIsa Limit, string? Error) Configured = ReadLimit(Environment.GetEnvironmentVariable(MatMul.LevelLimitVariable));

    private static readonly bool HasAvx2 = Configured.Limit >= KernelIsa.Avx2 && Avx2.IsSupported && Fma.IsSupported;
    private static readonly bool HasVnni = HasAvx2 && Configured.Limit >= KernelIsa.AvxVnni && AvxVnni.IsSupported;
    private static readonly bool HasAvx512 = HasAvx2 && Configured.Limit >= KernelIsa.Avx512 && Avx512F.IsSupported && Avx512BW.IsSupported;

    /// <summary>Why the value of <see cref="MatMul.LevelLimitVariable"/> was not understood; null when it was, or is unset.</summary>
    public static string? LimitError => Configured.Error;

    /// <summary>"scalar", "avx2", "avxvnni" or "avx512" (any case) caps the levels; unset or empty: no cap.</summary>
    internal static (KernelIsa Limit, string? Error) ReadLimit(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return (KernelIsa.Avx512, null);
        foreach (KernelIsa isa in Enum.GetValues<KernelIsa>())
            if (string.Equals(value.Trim(), isa.ToString(), StringComparison.OrdinalIgnoreCase)) return (isa, null);
        return (KernelIsa.Avx512, $"{MatMul.LevelLimitVariable}='{value}' is not a kernel level: use scalar, avx2, avxvnni or avx512 (the widest level to use), or leave it unset");
    }

    /// <summary>
    /// The widest level this processor runs, for kernels with no integer dot products (attention): AVX-512, else
    /// AVX2, else scalar. Levels are ordered so that <c>isa &gt;= Avx2</c> means "at least the AVX2 kernels".
    /// </summary>
    public static readonly KernelIsa Best = HasAvx512 ? KernelIsa.Avx512 : HasAvx2 ? KernelIsa.Avx2 : KernelIsa.Scalar;

    /// <summary>True when this processor can run kernels of <paramref name="isa"/> and the level limit allows them.</summary>
    public static bool IsSupported(KernelIsa isa) => isa switch
    {
        KernelIsa.Scalar => true,
        KernelIsa.Avx2 => HasAvx2,
        KernelIsa.AvxVnni => HasVnni,
        KernelIsa.Avx512 => HasAvx512,
        _ => false,
    };

    /// <summary>The level MatMul uses for weights of <paramref name="type"/> in a product of <paramref name="tokens"/> tokens on this processor.</summary>
    /// <remarks>
    /// Measured on AMD Zen 5 (family 26: AVX-512 at full width, AVX-VNNI; thread CPU time, docs/benchmarks.md):
    /// the 512-bit one-row kernels beat the 256-bit VNNI ones for every type (Q4_0 decode 0.031 against 0.054
    /// cpu-ms per 512×4096 product), VNNI and pmaddubsw+pmaddwd measured alike at 256 bits for one row, and
    /// the 256-bit VNNI tiles beat the AVX2 ones in prompts (Q8_0 12-22%, Q4_0 6-8%), and the 512-bit Q4_0
    /// tiles of sixteen tokens beat both (0.133-0.155 cpu-ms per token of a 4096×4096 product against
    /// 0.234-0.251 VNNI). So one token takes the widest level; a Q4_0 batch of <see cref="Q8Tiles.WideTokens"/>
    /// or more the 512-bit tiles; any other batch that runs tiles (Q8_0, Q4_0 from <see cref="FewTokens.MaxTokens"/>
    /// tokens; below that the few-token kernels at the one-token level, exact per token) or four-token kernels
    /// (K-quants from four), all 256-bit, VNNI where the processor has it. Q4_K stays
    /// on 256-bit kernels even for one token: its 512-bit kernel sums in another order, and the four-token
    /// kernel's arithmetic is the 256-bit one's, so a token's logits would depend on whether it was decoded
    /// alone or in a batch. Every level's integer sums are exact, so these choices change speed only.
    /// </remarks>
    public static KernelIsa BestFor(GgmlType type, int tokens = 1)
    {
        if (!HasAvx2) return KernelIsa.Scalar;
        if (HasAvx512 && type == GgmlType.Q4_0 && tokens >= Q8Tiles.WideTokens) return KernelIsa.Avx512;
        KernelIsa narrow = HasVnni ? KernelIsa.AvxVnni : KernelIsa.Avx2;
        bool batched = type switch
        {
            GgmlType.Q8_0 or GgmlType.Q4_0 => tokens >= FewTokens.MaxTokens,
            GgmlType.Q4_K or GgmlType.Q6_K => tokens >= 4,
            _ => false,
        };
        if (batched || type == GgmlType.Q4_K) return narrow;
        return HasAvx512 ? KernelIsa.Avx512 : narrow;
    }
}
