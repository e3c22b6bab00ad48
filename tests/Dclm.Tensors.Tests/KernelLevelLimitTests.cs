using Dclm.Tensors.Compute;

namespace Dclm.Tensors.Tests;

/// <summary>The values DCLM_KERNEL_LEVEL accepts (the whole-process effect is checked through `dclm bench` in the CLI tests).</summary>
public class KernelLevelLimitTests
{
    [Theory]
    [InlineData(null, "Avx512")]
    [InlineData("", "Avx512")]
    [InlineData("scalar", "Scalar")]
    [InlineData(" AVX2 ", "Avx2")]
    [InlineData("AvxVnni", "AvxVnni")]
    [InlineData("avx512", "Avx512")]
    public void KnownLevelsCapAtThatLevel(string? value, string limit)
    {
        var (actual, error) = KernelIsaInfo.ReadLimit(value);
        Assert.Equal(Enum.Parse<KernelIsa>(limit), actual);
        Assert.Null(error);
    }

    [Theory]
    [InlineData("avx")]
    [InlineData("sse4")]
    [InlineData("2")]
    public void UnknownLevelsAreNamedInTheError(string value)
    {
        var (limit, error) = KernelIsaInfo.ReadLimit(value);
        Assert.Equal(KernelIsa.Avx512, limit);
        Assert.NotNull(error);
        Assert.Contains($"{MatMul.LevelLimitVariable}='{value}'", error);
    }
}
