using Dclm.Checkpoints;
using Dclm.Inference;
using Dclm.Models;
using Dclm.Tensors;
using Dclm.TestSupport;

namespace Dclm.Checkpoints.Tests;

/// <summary>An open_lm checkpoint converted to one GGUF file still matches the independent reference.</summary>
public sealed class GgufRoundTripTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-gguf-").FullName;

    [Theory]
    [InlineData("dclm-tiny")]
    [InlineData("dclm-tiny-bf16")]
    public void F32GgufMatchesTheReference(string name)
    {
        var fixture = ReferenceFixture.Load(name);
        string gguf = Path.Combine(_directory, name + ".gguf");
        using (var source = ModelLoader.Load(fixture.Directory)) GgufExporter.Export(source, gguf, GgmlType.F32);

        using var loaded = ModelLoader.Load(gguf);
        Assert.Equal("gguf", loaded.Format);
        Assert.Equal(Architecture.OpenLm, loaded.Config.Architecture);
        Assert.Equal(QueryKeyNorm.FullWidth, loaded.Config.QueryKeyNorm);
        var logits = ReferenceFixture.AllLogits(loaded.Model, fixture.Prompt);
        Assert.True(fixture.RelativeError(logits) <= 1e-4, $"relative error {fixture.RelativeError(logits):E2}");
        var generated = new TokenGenerator(loaded.Model, null)
            .Generate(fixture.Prompt, SamplingOptions.Greedy with { MaxTokens = fixture.GreedyContinuation.Length }).ToArray();
        Assert.Equal(fixture.GreedyContinuation, generated);
    }

    [Theory]
    [InlineData(GgmlType.F16, 2e-3)]
    [InlineData(GgmlType.BF16, 1e-2)]
    [InlineData(GgmlType.Q8_0, 2e-2)]
    public void LowerPrecisionGgufStaysCloseToTheReference(GgmlType type, double tolerance)
    {
        var fixture = ReferenceFixture.Load("dclm-tiny");
        string gguf = Path.Combine(_directory, $"tiny-{type}.gguf");
        using (var source = ModelLoader.Load(fixture.Directory)) GgufExporter.Export(source, gguf, type);
        using var loaded = ModelLoader.Load(gguf);
        Assert.Contains(GgmlTypeInfo.Name(type), loaded.TensorTypes.Keys, StringComparer.OrdinalIgnoreCase);
        var logits = ReferenceFixture.AllLogits(loaded.Model, fixture.Prompt);
        Assert.True(fixture.RelativeError(logits) <= tolerance, $"{type}: relative error {fixture.RelativeError(logits):E2}");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
