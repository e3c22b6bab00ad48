using Dclm.Checkpoints;
using Dclm.Checkpoints.Adapters;
using Dclm.Formats.Safetensors;
using Dclm.Models;
using Dclm.Models.Adapters;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.TestSupport;
using Dclm.Training.FineTuning;
using Xunit.Abstractions;

namespace Dclm.Oracle.Tests;

/// <summary>
/// A LoRA adapter in PEFT's layout (Hugging Face row order) on every projection of a llama.cpp llama file:
/// merged by dclm merge it loads in llama.cpp and gives the logits of the same weights merged by hand in
/// Hugging Face order and converted the way llama.cpp converts them; and base + adapter gives the merged
/// model's logits.
/// </summary>
public sealed class LoraMergeTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-lora-merge-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public void MergedAdapterLoadsInLlamaCppAndEqualsTheAdapterApplied()
    {
        var shape = new LlamaShape(Dim: 64, Layers: 2, Heads: 4, KeyValueHeads: 2, HiddenDim: 128);
        const ulong seed = 20250115;
        const int rank = 4;
        const double alpha = 8;
        string basePath = Path.Combine(_directory, "base.gguf");
        LlamaFiles.WriteGguf(RandomLlama.Create(shape, seed, outputShare: 1), basePath, GgmlType.F32);

        // The adapter, written with PEFT's key names and config; and the same update applied by hand, in float64,
        // to the Hugging Face weights of a second copy of the model.
        var merged = RandomLlama.Create(shape, seed, outputShare: 1);
        var random = new Random(7);
        var tensors = new SafetensorsWriter();
        foreach (var tensor in merged.Tensors.Where(t => t.IsMatrix && t.HuggingFaceName.StartsWith("model.layers.", StringComparison.Ordinal)))
        {
            int rows = (int)tensor.Shape[0], columns = (int)tensor.Shape[1];
            float[] a = Enumerable.Range(0, rank * columns).Select(_ => (float)(random.NextDouble() - 0.5) / MathF.Sqrt(columns)).ToArray();
            float[] b = Enumerable.Range(0, rows * rank).Select(_ => (float)(random.NextDouble() - 0.5) * 0.5f).ToArray();
            string module = "base_model.model." + tensor.HuggingFaceName[..^".weight".Length];
            tensors.AddTensor(module + ".lora_A.weight", GgmlType.F32, [rank, columns], System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()));
            tensors.AddTensor(module + ".lora_B.weight", GgmlType.F32, [rows, rank], System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.AsSpan()));
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < columns; c++)
                {
                    double delta = 0;
                    for (int k = 0; k < rank; k++) delta += (double)b[r * rank + k] * a[k * columns + c];
                    tensor.Values[r * columns + c] = (float)(tensor.Values[r * columns + c] + alpha / rank * delta);
                }
        }
        string adapter = Path.Combine(_directory, "adapter");
        Directory.CreateDirectory(adapter);
        tensors.Write(Path.Combine(adapter, "adapter_model.safetensors"));
        File.WriteAllText(Path.Combine(adapter, "adapter_config.json"), $$"""
            {"base_model_name_or_path": "random-llama", "bias": "none", "fan_in_fan_out": false, "inference_mode": true,
             "lora_alpha": {{alpha}}, "lora_dropout": 0.0, "modules_to_save": null, "peft_type": "LORA", "r": {{rank}},
             "rank_pattern": {}, "alpha_pattern": {}, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
             "task_type": "CAUSAL_LM", "use_dora": false, "use_rslora": false}
            """);
        string byHand = Path.Combine(_directory, "merged-by-hand.gguf");
        LlamaFiles.WriteGguf(merged, byHand, GgmlType.F32);

        string ours = Path.Combine(_directory, "merged.gguf");
        int[] tokens = Enumerable.Range(0, 48).Select(i => 300 + i * 577 % 20000).ToArray();
        float[] adapted, served;
        using (var loaded = ModelLoader.Load(basePath, new ComputePool(2)))
        {
            var weights = PeftAdapter.Read(adapter, loaded.Config);
            Assert.Equal(2 * 7, weights.Updates.Count);
            AdapterMerger.Merge(loaded, weights, ours, GgmlType.F32, w => GgufTokenizerWriter.Write(w, loaded.Tokenizer!.Vocabulary));
            // Base + adapter in the training graph, and served through the inference model's projection seam.
            adapted = new float[tokens.Length * loaded.Config.VocabularySize];
            FrozenBaseModel.Build(loaded.Config, loaded.Model.Weights, LoraAdapters.From(weights), loaded.Model.Pool).Logits(tokens, adapted);
            var set = new AdapterSet(loaded.Model);
            set.UseEverywhere(set.Add("random", weights));
            served = new float[tokens.Length * loaded.Config.VocabularySize];
            loaded.Model.Forward(ForwardBatch.Sequence(tokens, 0, allLogits: true), loaded.Model.CreateCache(1, tokens.Length), served);
        }

        float[] llamaCpp = Logits.LlamaCpp(ours, tokens);
        double againstHand = Logits.RelativeError(llamaCpp, Logits.LlamaCpp(byHand, tokens));
        float[] mergedOurs = Logits.Ours(ours, tokens);
        double againstAdapter = Logits.RelativeError(mergedOurs, adapted), againstServed = Logits.RelativeError(mergedOurs, served);
        double adapterEffect = Logits.RelativeError(Logits.LlamaCpp(basePath, tokens), llamaCpp);
        output.WriteLine($"llama.cpp on our merge vs the merge by hand: {againstHand:E2}; our engine on the merge vs base + adapter: {againstAdapter:E2} (training graph), {againstServed:E2} (served); the adapter moves the logits by {adapterEffect:E2}");
        Assert.True(againstHand <= 1e-5, $"llama.cpp's logits of our merge differ from the hand merge's by {againstHand:E2}");
        Assert.True(againstAdapter <= 1e-5, $"the merged model's logits differ from base + adapter by {againstAdapter:E2}");
        Assert.True(againstServed <= 1e-5, $"the merged model's logits differ from the adapter served through the projection seam by {againstServed:E2}");
        Assert.True(adapterEffect > 1e-2, $"the adapter changed the logits by only {adapterEffect:E2}: the check would prove nothing");
    }
}
