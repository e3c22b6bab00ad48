using Dclm.Gpu.Conformance;
using Dclm.Tensors;

namespace Dclm.Gpu.Tests;

/// <summary>
/// The GPU backend's kernels on ILGPU's CPU accelerator against the CPU engine, whose logits are checked against
/// PyTorch (the dclm-tiny reference dumps) and llama.cpp in their own tests: every graph in every weight type.
/// </summary>
public sealed class ConformanceTests(CpuAcceleratorFixture accelerator) : IClassFixture<CpuAcceleratorFixture>
{
    /// <summary>
    /// Every graph in every weight type (dclm-tiny-bf16 in its own), as `dclm gpu-check` runs them. The batch check, which
    /// costs seven logits checks on the CPU accelerator, runs in q4_0 for every graph and in f32 for dclm-tiny (gpu-check
    /// runs it in f32 for all), so the project stays near three minutes on two cores.
    /// </summary>
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var model in new[] { "dclm-tiny", "llama", "qwen2", "qwen3" })
            foreach (var type in GpuConformance.Types) data.Add(model, GgmlTypeInfo.Name(type));
        data.Add("dclm-tiny-bf16", "bf16");
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void LogitsMatchTheCpuEngine(string model, string type)
    {
        Assert.True(GgmlTypeInfo.TryParse(type, out var parsed));
        bool batched = parsed == GgmlType.Q4_0 || (parsed == GgmlType.F32 && model == "dclm-tiny");
        var results = GpuConformance.RunModel(accelerator.Device, CpuAcceleratorFixture.Fixtures, model, parsed, batched);
        Assert.Equal(1 + (batched ? 1 : 0) + (parsed is GgmlType.F16 or GgmlType.BF16 ? 1 : 0), results.Count);
        foreach (var r in results) Assert.True(r.Passed, r.ToString());
    }

    /// <summary>
    /// Decode contexts of 21..32 positions with 8 per split (up to four splits): GQA with RoPE (and the batch check, with
    /// sequences of one and two splits in one step), a sliding window of 10 (so splits start at the window), and ALiBi.
    /// </summary>
    [Theory]
    [InlineData("llama")]
    [InlineData("llama-window")]
    [InlineData("llama-alibi")]
    public void SplitAttentionMatchesTheCpuEngine(string model)
    {
        bool batched = model == "llama";
        var results = GpuConformance.RunLongContext(accelerator.Device, model, GpuConformance.LongContextSplitLength, batched);
        Assert.Equal(batched ? 2 : 1, results.Count);
        foreach (var r in results) Assert.True(r.Passed, r.ToString());
    }

    /// <summary>
    /// The tiled attention kernel across its boundaries: a 45-token prefill (tiles of 8 tokens × 2 heads sharing a KV head
    /// with the last one partly filled; contexts past the 32-position chunk and not a multiple of it), then decode with
    /// splits; GQA, a window of 10 cutting tiles and chunks, ALiBi, and Qwen3's head width 32. For Llama also the prompt
    /// prefilled in two steps against one (a row's result must not depend on its tile's other rows); and the per-warp
    /// kernel, which DCLM_GPU_ATTENTION=warp selects, on the window case.
    /// </summary>
    [Theory]
    [InlineData("llama", true, true)]
    [InlineData("llama-window", false, true)]
    [InlineData("llama-alibi", false, true)]
    [InlineData("qwen3", false, true)]
    [InlineData("llama-window", false, false)]
    public void LongPrefillMatchesTheCpuEngine(string model, bool chunked, bool tiled)
    {
        var results = GpuConformance.RunLongPrefill(accelerator.Device, model, chunked, tiled);
        Assert.Equal(chunked ? 2 : 1, results.Count);
        foreach (var r in results) Assert.True(r.Passed, r.ToString());
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData(" tiled ", true)]
    [InlineData("WARP", false)]
    public void AttentionKernelComesFromTheEnvironmentVariable(string? value, bool tiled) =>
        Assert.Equal(tiled, GpuDecoderModel.ParseAttentionKernel(value));

    [Fact]
    public void ABadAttentionKernelIsNamedInTheError()
    {
        var error = Assert.Throws<ArgumentException>(() => GpuDecoderModel.ParseAttentionKernel("flash"));
        Assert.Contains(GpuDecoderModel.AttentionKernelVariable, error.Message);
        Assert.Contains("flash", error.Message);
    }

    [Theory]
    [InlineData(null, 32)]
    [InlineData(" ", 32)]
    [InlineData("16", 16)]
    [InlineData(" 64 ", 64)]
    public void SplitLengthComesFromTheEnvironmentVariable(string? value, int expected) =>
        Assert.Equal(expected, GpuDecoderModel.ParseSplitLength(value));

    [Theory]
    [InlineData("0")]
    [InlineData("-8")]
    [InlineData("sixteen")]
    [InlineData("99999999999")]
    public void ABadSplitLengthIsNamedInTheError(string value)
    {
        var error = Assert.Throws<ArgumentException>(() => GpuDecoderModel.ParseSplitLength(value));
        Assert.Contains(GpuDecoderModel.AttentionSplitVariable, error.Message);
        Assert.Contains(value, error.Message);
    }

    [Fact]
    public void FindsBothFixturesAndEverySyntheticGraph()
    {
        Assert.Equal(["dclm-tiny", "dclm-tiny-bf16", "llama", "qwen2", "qwen3"], GpuConformance.Models(CpuAcceleratorFixture.Fixtures));
    }
}
