using Dclm.Gpu.Conformance;
using Dclm.Tensors;

namespace Dclm.Gpu.Tests;

/// <summary>
/// The GPU backend's kernels on ILGPU's CPU accelerator against the CPU engine, whose logits are checked against
/// PyTorch (the dclm-tiny reference dumps) and llama.cpp in their own tests: every graph in every weight type.
/// </summary>
public sealed class ConformanceTests(CpuAcceleratorFixture accelerator) : IClassFixture<CpuAcceleratorFixture>
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var model in GpuConformance.Models(CpuAcceleratorFixture.Fixtures))
            foreach (var type in GpuConformance.Types) data.Add(model, GgmlTypeInfo.Name(type));
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void LogitsMatchTheCpuEngine(string model, string type)
    {
        Assert.True(GgmlTypeInfo.TryParse(type, out var parsed));
        bool batched = parsed is GgmlType.Q4_0 or GgmlType.F32;
        var results = GpuConformance.RunModel(accelerator.Device, CpuAcceleratorFixture.Fixtures, model, parsed, batched);
        Assert.Equal(batched ? 2 : 1, results.Count);
        foreach (var r in results) Assert.True(r.Passed, r.ToString());
    }

    [Fact]
    public void FindsBothFixturesAndEverySyntheticGraph()
    {
        Assert.Equal(["dclm-tiny", "dclm-tiny-bf16", "llama", "qwen2", "qwen3"], GpuConformance.Models(CpuAcceleratorFixture.Fixtures));
    }
}
