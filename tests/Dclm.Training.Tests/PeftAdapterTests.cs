using Dclm.Models;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Training.FineTuning;
using Dclm.Models.Adapters;
using Dclm.Checkpoints.Adapters;

namespace Dclm.Training.Tests;

/// <summary>
/// Our trained adapters round-trip through Hugging Face PEFT's layout with the same logits (reading and refusing PEFT files
/// on their own: Dclm.Checkpoints.Tests).
/// </summary>
public class PeftAdapterTests
{
    private static readonly ComputePool Pool = new(2);

    private static LoraAdapters RandomAdapters(ModelConfig config, LoraTarget[] targets, int seed)
    {
        var adapters = LoraAdapters.Create(config, new LoraSettings { Rank = 3, Alpha = 5, Targets = targets }, (ulong)seed);
        var random = new Random(seed);
        foreach (var a in adapters.All)
            for (int i = 0; i < a.B.Length; i++) a.B.Values[i] = (float)(random.NextDouble() - 0.5);
        return adapters;
    }

    private static float[] Logits(ModelConfig config, ModelWeights weights, LoraAdapters adapters)
    {
        int[] tokens = [1, 7, 3, 12, 5, 9];
        var logits = new float[tokens.Length * config.VocabularySize];
        FrozenBaseModel.Build(config, weights, adapters, Pool).Logits(tokens, logits);
        return logits;
    }

    [Theory]
    [InlineData("openlm")]
    [InlineData("llama")]
    [InlineData("qwen2")]
    [InlineData("qwen3")]
    public void OurAdaptersRoundTripThroughPeftsLayout(string architecture)
    {
        var config = architecture switch { "openlm" => TinyBases.OpenLm(), "llama" => TinyBases.Llama(), "qwen2" => TinyBases.Qwen2(), _ => TinyBases.Qwen3() };
        using var weights = TinyBases.Create(config, GgmlType.F32, 1);
        var adapters = RandomAdapters(config, [LoraTarget.Query, LoraTarget.Value, LoraTarget.Gate, LoraTarget.Up, LoraTarget.Down], 2);
        string directory = TrainingFixtures.TemporaryDirectory();
        PeftAdapter.Write(directory, adapters.ToWeights(), "tiny-base", 0.05);
        var read = LoraAdapters.From(PeftAdapter.Read(directory, config));
        var expected = Logits(config, weights, adapters);
        var actual = Logits(config, weights, read);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"logit {i}: {actual[i]} read back, {expected[i]} written");
        // And again: what we read writes the same file.
        string again = TrainingFixtures.TemporaryDirectory();
        PeftAdapter.Write(again, read.ToWeights(), "tiny-base", 0.05);
        Assert.Equal(File.ReadAllBytes(Path.Combine(directory, PeftAdapter.WeightsFile)), File.ReadAllBytes(Path.Combine(again, PeftAdapter.WeightsFile)));
        if (architecture != "openlm")
            foreach (var adapter in adapters.All)
            {
                var match = read.All.Single(a => a.Module == adapter.Module);
                Assert.Equal(adapter.A.Values, match.A.Values);
                Assert.Equal(adapter.B.Values, match.B.Values);
            }
    }
}
