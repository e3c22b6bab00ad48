using System.Buffers.Binary;
using System.Text;
using Dclm.Checkpoints.Adapters;
using Dclm.Formats;
using Dclm.Models;
using Dclm.Models.Adapters;

namespace Dclm.Checkpoints.Tests;

/// <summary>
/// Adapters in Hugging Face PEFT's layout, read and written on their own: a hand-written adapter loads, what is written
/// reads back and writes the same bytes, bad ones are refused by name. (That trained adapters give the same logits after
/// the round trip is checked in Dclm.Training.Tests.)
/// </summary>
public class PeftAdapterTests
{
    // Llama with grouped-query attention and llama.cpp's adjacent-pair RoPE layout: 2 layers, width 32, 4 heads of 8, 2 KV heads.
    private static readonly ModelConfig Llama = new()
    {
        Architecture = Architecture.Llama, Dim = 32, Layers = 2, Heads = 4, KeyValueHeads = 2, HiddenDim = 64, VocabularySize = 23,
        ContextLength = 16, NormEps = 1e-6f, Norm = NormKind.RmsNorm, QueryKeyNorm = QueryKeyNorm.None, RopeStyle = Tensors.Ops.RopeStyle.AdjacentPairs, RopeTheta = 500,
    };

    [Fact]
    public void WhatIsWrittenReadsBackAndWritesTheSameBytes()
    {
        var random = new Random(4);
        float[] Values(int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var updates = new List<LoraUpdate>();
        foreach (var target in new[] { LoraTarget.Query, LoraTarget.Value, LoraTarget.Gate, LoraTarget.Down })
            for (int layer = 0; layer < Llama.Layers; layer++)
            {
                var (rows, columns) = LoraTargets.Shape(target, Llama);
                updates.Add(new LoraUpdate(layer, target, Values(3 * columns), Values(rows * 3), 3, 5f / 3));
            }
        var written = new LoraWeights(Llama, updates);
        string directory = Directory.CreateTempSubdirectory("dclm-peft-").FullName, again = Directory.CreateTempSubdirectory("dclm-peft-").FullName;
        try
        {
            PeftAdapter.Write(directory, written, "tiny-llama", 0.05);
            Assert.Equal("tiny-llama", PeftAdapter.BaseModel(directory));
            var read = PeftAdapter.Read(directory, Llama);
            Assert.Equal(written.Updates.Count, read.Updates.Count);
            foreach (var update in written.Updates)
            {
                var match = Assert.Single(read.For(update.Layer, update.Target));
                Assert.Equal((update.Rank, update.Scale), (match.Rank, match.Scale));
                Assert.Equal(update.A, match.A);
                Assert.Equal(update.B, match.B);
            }
            PeftAdapter.Write(again, read, "tiny-llama", 0.05);
            Assert.Equal(File.ReadAllBytes(Path.Combine(directory, PeftAdapter.WeightsFile)), File.ReadAllBytes(Path.Combine(again, PeftAdapter.WeightsFile)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
            Directory.Delete(again, recursive: true);
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
        var config = Llama with { Heads = 2, KeyValueHeads = 2, RopeStyle = style };
        string directory = Directory.CreateTempSubdirectory("dclm-peft-").FullName;
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
        var adapters = PeftAdapter.Read(directory, config);
        Assert.Equal(2, adapters.Updates.Count);
        var q = Assert.Single(adapters.For(1, LoraTarget.Query));
        Assert.Equal(8f, q.Scale);
        Assert.Equal(qA, q.A);
        var order = style == Tensors.Ops.RopeStyle.AdjacentPairs ? GgufExporter.RopeRowOrder(2, 16) : Enumerable.Range(0, 32).ToArray();
        if (style == Tensors.Ops.RopeStyle.AdjacentPairs) Assert.Equal(8, order[1]); // adjacent row 1 is half-split row 8 of head 0
        for (int row = 0; row < 32; row++)
            for (int k = 0; k < 2; k++) Assert.Equal(order[row] + 100 * k, q.B[row * 2 + k]);
        var down = Assert.Single(adapters.For(0, LoraTarget.Down));
        Assert.Equal(4, down.Rank);
        Assert.Equal(4f, down.Scale);
        Assert.Equal(dA, down.A);
        Assert.Equal(dB, down.B);
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
        var config = Llama;
        string directory = Directory.CreateTempSubdirectory("dclm-peft-").FullName;
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
