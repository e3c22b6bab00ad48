using System.Runtime.InteropServices;
using Dclm.Checkpoints;
using Dclm.Models;
using Dclm.Tensors;
using Dclm.Tensors.Numerics;
using Dclm.Tokenizers;

namespace Dclm.Training.Checkpointing;

/// <summary>Writes trained parameters as an apple/DCLM-7B-layout Hugging Face directory, with the tokenizer beside them.</summary>
public static class ModelWeightsWriter
{
    /// <summary>
    /// Writes config.json, safetensors in <paramref name="type"/> (F32, BF16 or F16), the RoPE buffers open_lm
    /// keeps, and tokenizer.json when the tokenizer can be written as one.
    /// </summary>
    public static void Write(string directory, ModelParameters parameters, GgmlType type, Tokenizer? tokenizer, string? tokenizerPath)
    {
        var config = parameters.Config;
        var frequencies = Tensors.Ops.RotaryEmbedding.InverseFrequencies(config.HeadDim, config.RopeTheta);
        OpenLmCheckpointWriter.Write(directory, config, type, (name, shape, stream) =>
        {
            if (name.EndsWith("inv_freq", StringComparison.Ordinal)) { stream.Write(MemoryMarshal.AsBytes(frequencies.AsSpan())); return; }
            WriteValues(stream, parameters[name].Values, type);
        });
        WriteTokenizer(directory, tokenizer, tokenizerPath);
    }

    /// <summary>Copies a tokenizer.json (and its tokenizer_config.json), or writes one from a GGUF vocabulary.</summary>
    public static void WriteTokenizer(string directory, Tokenizer? tokenizer, string? tokenizerPath)
    {
        if (tokenizerPath is not null && Path.GetFileName(tokenizerPath).Equals("tokenizer.json", StringComparison.OrdinalIgnoreCase))
        {
            File.Copy(tokenizerPath, Path.Combine(directory, "tokenizer.json"), overwrite: true);
            string config = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tokenizerPath))!, "tokenizer_config.json");
            if (File.Exists(config)) File.Copy(config, Path.Combine(directory, "tokenizer_config.json"), overwrite: true);
        }
        else if (tokenizer is not null && TokenizerJsonWriter.CanWrite(tokenizer.Vocabulary))
        {
            TokenizerJsonWriter.Write(directory, tokenizer.Vocabulary);
        }
    }

    private static void WriteValues(Stream stream, ReadOnlySpan<float> values, GgmlType type)
    {
        const int Chunk = 1 << 16;
        var bits = new ushort[Chunk];
        for (int start = 0; start < values.Length; start += Chunk)
        {
            var part = values.Slice(start, Math.Min(Chunk, values.Length - start));
            switch (type)
            {
                case GgmlType.F32: stream.Write(MemoryMarshal.AsBytes(part)); break;
                case GgmlType.BF16: BFloat16Conversion.FromSingle(part, bits); stream.Write(MemoryMarshal.AsBytes(bits.AsSpan(0, part.Length))); break;
                case GgmlType.F16: HalfConversion.FromSingle(part, bits); stream.Write(MemoryMarshal.AsBytes(bits.AsSpan(0, part.Length))); break;
                default: throw new ArgumentException($"weights are written as F32, BF16 or F16, not {type}");
            }
        }
    }
}
