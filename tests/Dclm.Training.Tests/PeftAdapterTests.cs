using System.Buffers.Binary;
using System.Text;
using Dclm.Formats;
using Dclm.Models;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Training.FineTuning;
using Dclm.Models.Adapters;
using Dclm.Checkpoints.Adapters;

namespace Dclm.Training.Tests;

/// <summary>Adapters in Hugging Face PEFT's layout: a hand-written adapter loads, ours round-trip, bad ones are refused by name.</summary>
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

    /// <summary>
    /// An adapter written byte by byte to PEFT's published layout (safetensors header, F32 and BF16 tensors, the
    /// adapter_config.json fields save_pretrained writes, a rank_pattern) loads onto the right projections with
    /// the right scale, and Q's rows follow llama.cpp's permutation when the base is a llama.cpp llama file.
    /// </summary>
    [Theory]
    [InlineData(Tensors.Ops.RopeStyle.HalfSplit)]
    [InlineData(Tensors.Ops.RopeStyle.AdjacentPairs)]
    public void AHandWrittenPeftAdapterLoads(Tensors.Ops.RopeStyle style)
    {
        // Llama with 2 heads of 16 over 32 (Hugging Face row order: each head's two halves).
        var config = TinyBases.Llama() with { Heads = 2, KeyValueHeads = 2, RopeStyle = style };
        string directory = TrainingFixtures.TemporaryDirectory();
        File.WriteAllText(Path.Combine(directory, "adapter_config.json"), """
            {
              "alpha_pattern": {},
              "auto_mapping": null,
              "base_model_name_or_path": "tiny-llama",
              "bias": "none",
              "fan_in_fan_out": false,
              "inference_mode": true,
              "init_lora_weights": true,
              "layer_replication": null,
              "layers_pattern": null,
              "layers_to_transform": null,
              "loftq_config": {},
              "lora_alpha": 16,
              "lora_dropout": 0.05,
              "megatron_config": null,
              "megatron_core": "megatron.core",
              "modules_to_save": null,
              "peft_type": "LORA",
              "r": 2,
              "rank_pattern": {"down_proj": 4},
              "revision": null,
              "target_modules": ["q_proj", "down_proj"],
              "task_type": "CAUSAL_LM",
              "use_dora": false,
              "use_rslora": false
            }
            """);
        // q_proj of layer 1: A[k, c] = (k + 1)·0.01·(c + 1), B[r, k] = r + 100·k, in F32; down_proj of layer 0 with rank 4 in BF16.
        float[] qA = Enumerable.Range(0, 2 * 32).Select(i => (i / 32 + 1) * 0.01f * (i % 32 + 1)).ToArray();
        float[] qB = Enumerable.Range(0, 32 * 2).Select(i => (float)(i / 2 + 100 * (i % 2))).ToArray();
        float[] dA = Enumerable.Range(0, 4 * 64).Select(i => (i % 7) * 0.25f).ToArray();
        float[] dB = Enumerable.Range(0, 32 * 4).Select(i => (i % 5) - 2f).ToArray();
        WriteSafetensors(Path.Combine(directory, "adapter_model.safetensors"),
        [
            ("base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight", "F32", [2, 32], qA),
            ("base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight", "F32", [32, 2], qB),
            ("base_model.model.model.layers.0.mlp.down_proj.lora_A.weight", "BF16", [4, 64], dA),
            ("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight", "BF16", [32, 4], dB),
        ]);
        var adapters = LoraAdapters.From(PeftAdapter.Read(directory, config));
        Assert.Equal(2, adapters.All.Count);
        var q = Assert.Single(adapters.For(1, LoraTarget.Query));
        Assert.Equal(8f, q.Scale);
        Assert.Equal(qA, q.A.Values);
        var order = style == Tensors.Ops.RopeStyle.AdjacentPairs ? Checkpoints.GgufExporter.RopeRowOrder(2, 16) : Enumerable.Range(0, 32).ToArray();
        if (style == Tensors.Ops.RopeStyle.AdjacentPairs) Assert.Equal(8, order[1]); // adjacent row 1 is half-split row 8 of head 0
        for (int row = 0; row < 32; row++)
            for (int k = 0; k < 2; k++) Assert.Equal(order[row] + 100 * k, q.B.Values[row * 2 + k]);
        var down = Assert.Single(adapters.For(0, LoraTarget.Down));
        Assert.Equal(4, down.Rank);
        Assert.Equal(4f, down.Scale);
        Assert.Equal(dA, down.A.Values);
        Assert.Equal(dB, down.B.Values);
        Assert.Empty(adapters.For(0, LoraTarget.Query));
    }

    [Theory]
    [InlineData("missing B", "lora_B.weight is missing")]
    [InlineData("wrong shape", "needs [32, 2]")]
    [InlineData("foreign tensor", "tensor base_model.model.model.layers.5.self_attn.q_proj.lora_A.weight is not the lora_A or lora_B weight of a module")]
    [InlineData("dora", "use_dora: DoRA adapters are not supported")]
    [InlineData("prefix tuning", "peft_type is 'PREFIX_TUNING', only LORA adapters are supported")]
    public void BadAdaptersAreRefusedByName(string problem, string expected)
    {
        var config = TinyBases.Llama();
        string directory = TrainingFixtures.TemporaryDirectory();
        string type = problem == "prefix tuning" ? "PREFIX_TUNING" : "LORA";
        File.WriteAllText(Path.Combine(directory, "adapter_config.json"), $$"""{"peft_type": "{{type}}", "r": 2, "lora_alpha": 4, "use_dora": {{(problem == "dora" ? "true" : "false")}}}""");
        var tensors = new List<(string, string, long[], float[])> { ("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", "F32", [2, 32], new float[64]) };
        if (problem != "missing B") tensors.Add(("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", "F32", problem == "wrong shape" ? [31, 2] : [32, 2], new float[problem == "wrong shape" ? 62 : 64]));
        if (problem == "foreign tensor")
        {
            tensors.Add(("base_model.model.model.layers.5.self_attn.q_proj.lora_A.weight", "F32", [2, 32], new float[64]));
            tensors.Add(("base_model.model.model.layers.5.self_attn.q_proj.lora_B.weight", "F32", [32, 2], new float[64]));
        }
        WriteSafetensors(Path.Combine(directory, "adapter_model.safetensors"), tensors);
        var error = Assert.Throws<ModelFileException>(() => PeftAdapter.Read(directory, config));
        Assert.Contains(expected, error.Message);
    }

    /// <summary>safetensors as its specification defines it: an 8-byte little-endian header length, the JSON header, the data.</summary>
    private static void WriteSafetensors(string path, IReadOnlyList<(string Name, string Dtype, long[] Shape, float[] Values)> tensors)
    {
        var data = new List<byte>();
        var header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        foreach (var (name, dtype, shape, values) in tensors)
        {
            int start = data.Count;
            foreach (float v in values)
            {
                if (dtype == "F32") data.AddRange(BitConverter.GetBytes(v));
                else data.AddRange(BitConverter.GetBytes((ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)));
            }
            header.Append($",\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{start},{data.Count}]}}");
        }
        header.Append('}');
        while (header.Length % 8 != 0) header.Append(' ');
        var headerBytes = Encoding.UTF8.GetBytes(header.ToString());
        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)headerBytes.Length);
        File.WriteAllBytes(path, [.. length, .. headerBytes, .. data]);
    }
}
