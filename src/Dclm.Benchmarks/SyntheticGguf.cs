using System.Runtime.InteropServices;
using Dclm.Checkpoints;
using Dclm.Formats.Gguf;
using Dclm.Tensors;
using Dclm.Tensors.Quantization;

namespace Dclm.Benchmarks;

/// <summary>
/// Writes a GGUF file of a <see cref="BenchShape"/> with random weights in one tensor type, plus a
/// synthetic SentencePiece vocabulary that llama.cpp accepts, so no model needs downloading. Rows are
/// generated and quantised one at a time while writing; memory stays flat for 7B shapes.
/// </summary>
public static class SyntheticGguf
{
    /// <summary>Writes (or reuses, when present) the file for <paramref name="shape"/> in <paramref name="type"/> under <paramref name="directory"/>.</summary>
    public static string Ensure(string directory, BenchShape shape, GgmlType type, IProgress<string>? progress = null, CancellationToken cancellation = default)
    {
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, $"{shape.Name}-{GgmlTypeInfo.Name(type)}.gguf");
        if (File.Exists(path)) return path;
        progress?.Report($"writing {path} (random weights, made once and reused)");
        Write(path, shape, type, cancellation);
        return path;
    }

    /// <summary>Writes the file.</summary>
    public static void Write(string path, BenchShape s, GgmlType type, CancellationToken cancellation = default)
    {
        var w = new GgufWriter();
        GgufConfigWriter.Write(w, s.ToConfig(), $"synthetic {s.Name}");
        AddVocabulary(w, s.VocabularySize);

        int seed = 1;
        void Matrix(string name, int rows, int columns) => AddRandomMatrix(w, name, type, rows, columns, seed++, cancellation);
        void Gain(string name, int length) => w.AddTensor(name, GgmlType.F32, [length], MemoryMarshal.AsBytes(Enumerable.Repeat(1f, length).ToArray().AsSpan()));
        Matrix(GgufModelKeys.TokenEmbedding, s.VocabularySize, s.Dim);
        for (int i = 0; i < s.Layers; i++)
        {
            Gain(GgufModelKeys.Block(i, "attn_norm"), s.Dim);
            Matrix(GgufModelKeys.Block(i, "attn_q"), s.QueryDim, s.Dim);
            Matrix(GgufModelKeys.Block(i, "attn_k"), s.KeyValueDim, s.Dim);
            Matrix(GgufModelKeys.Block(i, "attn_v"), s.KeyValueDim, s.Dim);
            if (s.OpenLm)
            {
                Gain(GgufModelKeys.Block(i, "attn_q_norm"), s.Dim);
                Gain(GgufModelKeys.Block(i, "attn_k_norm"), s.KeyValueDim);
            }
            if (s.Qwen3)
            {
                Gain(GgufModelKeys.Block(i, "attn_q_norm"), s.HeadDim);
                Gain(GgufModelKeys.Block(i, "attn_k_norm"), s.HeadDim);
            }
            Matrix(GgufModelKeys.Block(i, "attn_output"), s.Dim, s.QueryDim);
            Gain(GgufModelKeys.Block(i, "ffn_norm"), s.Dim);
            Matrix(GgufModelKeys.Block(i, "ffn_gate"), s.HiddenDim, s.Dim);
            Matrix(GgufModelKeys.Block(i, "ffn_up"), s.HiddenDim, s.Dim);
            Matrix(GgufModelKeys.Block(i, "ffn_down"), s.Dim, s.HiddenDim);
        }
        Gain(GgufModelKeys.OutputNorm, s.Dim);
        Matrix(GgufModelKeys.Output, s.VocabularySize, s.Dim);
        w.Write(path, cancellation);
    }

    /// <summary>
    /// A SentencePiece vocabulary llama.cpp loads: unknown, BOS, EOS, the 256 byte tokens, then "▁t{i}" pieces.
    /// </summary>
    private static void AddVocabulary(GgufWriter w, int size)
    {
        var tokens = new string[size];
        var scores = new float[size];
        var types = new int[size];
        tokens[0] = "<unk>"; types[0] = 2;
        tokens[1] = "<s>"; types[1] = 3;
        tokens[2] = "</s>"; types[2] = 3;
        for (int b = 0; b < 256; b++) { tokens[3 + b] = $"<0x{b:X2}>"; types[3 + b] = 6; }
        for (int i = 259; i < size; i++) { tokens[i] = $"▁t{i}"; types[i] = 1; scores[i] = -i; }
        w.AddString("tokenizer.ggml.model", "llama");
        w.AddStringArray("tokenizer.ggml.tokens", tokens);
        w.AddFloat32Array("tokenizer.ggml.scores", scores);
        w.AddInt32Array("tokenizer.ggml.token_type", types);
        w.AddUInt32("tokenizer.ggml.unknown_token_id", 0);
        w.AddUInt32("tokenizer.ggml.bos_token_id", 1);
        w.AddUInt32("tokenizer.ggml.eos_token_id", 2);
    }

    private static void AddRandomMatrix(GgufWriter w, string name, GgmlType type, int rows, int columns, int seed, CancellationToken cancellation)
    {
        long rowBytes = GgmlTypeInfo.ByteCount(type, columns);
        float scale = 1f / MathF.Sqrt(columns);
        w.AddTensor(name, type, [rows, columns], stream =>
        {
            var row = new float[columns];
            var bytes = new byte[rowBytes];
            ulong state = (ulong)seed * 0x9E3779B97F4A7C15UL | 1;
            for (int r = 0; r < rows; r++)
            {
                if ((r & 1023) == 0) cancellation.ThrowIfCancellationRequested();
                for (int c = 0; c < columns; c++)
                {
                    state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                    row[c] = ((state >> 40) / (float)(1 << 24) * 2 - 1) * scale;
                }
                Quantizer.QuantizeRow(type, row, bytes);
                stream.Write(bytes);
            }
        });
    }
}
