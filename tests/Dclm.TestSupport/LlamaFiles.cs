using System.Runtime.InteropServices;
using System.Text.Json;
using Dclm.Formats.Gguf;
using Dclm.Formats.Safetensors;
using Dclm.Tensors;
using Dclm.Tensors.Quantization;

namespace Dclm.TestSupport;

/// <summary>Writes a <see cref="RandomLlama"/> as the files llama.cpp and Hugging Face would hold it in.</summary>
public static class LlamaFiles
{
    /// <summary>The real llama-spm tokenizer's metadata, copied from llama.cpp's vocabulary test file.</summary>
    public static string VocabularyPath => Path.Combine(AppContext.BaseDirectory, "fixtures", "llama-spm.vocab.gguf");

    /// <summary>
    /// Writes a GGUF of architecture "llama" with every matrix in <paramref name="type"/> (norms stay F32),
    /// Q/K rows permuted the way llama.cpp's converter permutes them (unless <paramref name="permuteQueryKeyRows"/>
    /// is false, for a control that must disagree), and the llama-spm tokenizer.
    /// </summary>
    /// <remarks>
    /// With <paramref name="architecture"/> "qwen2" (a model with attention biases) or "qwen3" (per-head q/k norms)
    /// the keys are theirs and no rows are permuted: llama.cpp runs both with NeoX (half-split) RoPE, as trained.
    /// <paramref name="ropeFactors"/>, when given, is Llama 3.1's <c>rope_freqs.weight</c>: each RoPE frequency is
    /// divided by its factor (headDim/2 values).
    /// </remarks>
    /// <remarks><paramref name="addTokenizer"/> writes the tokenizer metadata (llama-spm's when null).</remarks>
    public static void WriteGguf(RandomLlama model, string path, GgmlType type, bool permuteQueryKeyRows = true, string architecture = "llama",
        float[]? ropeFactors = null, Action<GgufWriter>? addTokenizer = null)
    {
        var s = model.Shape;
        string a = architecture;
        permuteQueryKeyRows &= a == "llama";
        var writer = new GgufWriter();
        writer.AddString("general.architecture", a);
        writer.AddString("general.name", "random-" + a);
        writer.AddUInt32("general.file_type", FileType(type));
        writer.AddUInt32($"{a}.context_length", (uint)s.ContextLength);
        writer.AddUInt32($"{a}.embedding_length", (uint)s.Dim);
        writer.AddUInt32($"{a}.block_count", (uint)s.Layers);
        writer.AddUInt32($"{a}.feed_forward_length", (uint)s.HiddenDim);
        writer.AddUInt32($"{a}.attention.head_count", (uint)s.Heads);
        writer.AddUInt32($"{a}.attention.head_count_kv", (uint)s.KeyValueHeads);
        writer.AddFloat32($"{a}.attention.layer_norm_rms_epsilon", s.NormEpsilon);
        writer.AddFloat32($"{a}.rope.freq_base", s.RopeTheta);
        writer.AddUInt32($"{a}.rope.dimension_count", (uint)s.HeadDim);
        writer.AddUInt32($"{a}.vocab_size", (uint)s.VocabularySize);
        if (s.HeadWidth > 0)
        {
            writer.AddUInt32($"{a}.attention.key_length", (uint)s.HeadDim);
            writer.AddUInt32($"{a}.attention.value_length", (uint)s.HeadDim);
        }
        (addTokenizer ?? AddTokenizer)(writer);
        if (ropeFactors is not null) writer.AddTensor("rope_freqs.weight", GgmlType.F32, [ropeFactors.Length], MemoryMarshal.AsBytes(ropeFactors.AsSpan()));

        foreach (var tensor in model.Tensors)
        {
            float[] values = permuteQueryKeyRows && tensor.RopeHeads > 0 ? ToAdjacentPairs(tensor.Values, tensor.RopeHeads, (int)tensor.Shape[1]) : tensor.Values;
            if (!tensor.IsMatrix || type == GgmlType.F32)
            {
                writer.AddTensor(tensor.GgufName, GgmlType.F32, tensor.Shape, MemoryMarshal.AsBytes(values.AsSpan()));
                continue;
            }
            int rows = (int)tensor.Shape[0], columns = (int)tensor.Shape[1];
            var bytes = new byte[GgmlTypeInfo.ByteCount(type, (long)rows * columns)];
            Quantizer.Quantize(type, values, rows, columns, bytes);
            writer.AddTensor(tensor.GgufName, type, tensor.Shape, bytes);
        }
        writer.Write(path);
    }

    /// <summary>llama.cpp's llama_ftype for a file whose matrices are all of one type.</summary>
    private static uint FileType(GgmlType type) => type switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 1,
        GgmlType.Q4_0 => 2,
        GgmlType.Q8_0 => 7,
        GgmlType.BF16 => 32,
        _ => throw new ArgumentOutOfRangeException(nameof(type), $"no test file type for {type}"),
    };

    /// <summary>Copies every <c>tokenizer.*</c> key of the llama-spm vocabulary file.</summary>
    public static void AddTokenizer(GgufWriter writer)
    {
        using var vocabulary = GgufFile.Open(VocabularyPath);
        foreach (var (key, value) in vocabulary.Metadata)
            if (key.StartsWith("tokenizer.", StringComparison.Ordinal)) writer.AddMetadata(key, value);
    }

    /// <summary>
    /// Writes a Hugging Face LlamaForCausalLM directory: config.json and one F32 model.safetensors, with
    /// Q/K rows in Hugging Face's half-split order (as trained, no permutation).
    /// </summary>
    public static void WriteHuggingFace(RandomLlama model, string directory, string modelType = "llama")
    {
        var s = model.Shape;
        Directory.CreateDirectory(directory);
        var config = new Dictionary<string, object>
        {
            ["architectures"] = new[] { modelType switch { "qwen2" => "Qwen2ForCausalLM", "qwen3" => "Qwen3ForCausalLM", _ => "LlamaForCausalLM" } },
            ["model_type"] = modelType,
            ["hidden_size"] = s.Dim,
            ["intermediate_size"] = s.HiddenDim,
            ["num_hidden_layers"] = s.Layers,
            ["num_attention_heads"] = s.Heads,
            ["num_key_value_heads"] = s.KeyValueHeads,
            ["vocab_size"] = s.VocabularySize,
            ["max_position_embeddings"] = s.ContextLength,
            ["rms_norm_eps"] = s.NormEpsilon,
            ["rope_theta"] = s.RopeTheta,
            ["hidden_act"] = "silu",
            ["tie_word_embeddings"] = false,
            ["torch_dtype"] = "float32",
            ["bos_token_id"] = 1,
            ["eos_token_id"] = 2,
        };
        if (s.HeadWidth > 0) config["head_dim"] = s.HeadDim;
        if (modelType is "qwen2" or "qwen3")
        {
            // Qwen2's configs list a window that is off unless use_sliding_window says otherwise.
            config["sliding_window"] = 32;
            config["use_sliding_window"] = false;
        }
        File.WriteAllText(Path.Combine(directory, "config.json"), JsonSerializer.Serialize(config, new JsonSerializerOptions { WriteIndented = true }));

        var writer = new SafetensorsWriter();
        foreach (var tensor in model.Tensors)
            writer.AddTensor(tensor.HuggingFaceName, GgmlType.F32, tensor.Shape, MemoryMarshal.AsBytes(tensor.Values.AsSpan()));
        writer.Write(Path.Combine(directory, "model.safetensors"));
    }

    /// <summary>
    /// llama.cpp's convert_hf_to_gguf permutation, written out independently of our exporter: view the
    /// rows as (heads, 2, headDim/2) and swap the last two axes, so that the halves (x_i, x_{i+half})
    /// Hugging Face rotates together become neighbours (x_{2i}, x_{2i+1}).
    /// </summary>
    public static float[] ToAdjacentPairs(float[] rowsHalfSplit, int heads, int columns)
    {
        int rows = rowsHalfSplit.Length / columns, headDim = rows / heads, half = headDim / 2;
        var permuted = new float[rowsHalfSplit.Length];
        for (int head = 0; head < heads; head++)
            for (int which = 0; which < 2; which++)
                for (int i = 0; i < half; i++)
                {
                    int from = head * headDim + which * half + i;
                    int to = head * headDim + i * 2 + which;
                    rowsHalfSplit.AsSpan(from * columns, columns).CopyTo(permuted.AsSpan(to * columns, columns));
                }
        return permuted;
    }
}
