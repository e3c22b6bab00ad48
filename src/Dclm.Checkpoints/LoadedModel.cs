using Dclm.Models;
using Dclm.Tokenizers;

namespace Dclm.Checkpoints;

/// <summary>A model ready to run: its config, its weights bound into a <see cref="DecoderModel"/>, and where it came from.</summary>
public sealed class LoadedModel : IDisposable
{
    internal LoadedModel(string path, string format, DecoderModel model, Tokenizer? tokenizer, IReadOnlyDictionary<string, long> tensorTypes, WeightResidence residence)
    {
        Residence = residence;
        Path = path;
        Tokenizer = tokenizer;
        Format = format;
        Model = model;
        TensorTypes = tensorTypes;
    }

    /// <summary>The file or directory the model was loaded from.</summary>
    public string Path { get; }
    /// <summary>"safetensors" or "gguf".</summary>
    public string Format { get; }
    /// <summary>Whether the weights were copied into memory or mapped, why, and what loading took.</summary>
    public WeightResidence Residence { get; }
    /// <summary>The runnable model.</summary>
    public DecoderModel Model { get; }
    /// <summary>The tokenizer shipped with the model (tokenizer.json or GGUF metadata), or null when there is none.</summary>
    public Tokenizer? Tokenizer { get; }
    /// <summary>The tokenizer, or a clear error when the model has none.</summary>
    public Tokenizer RequireTokenizer() => Tokenizer ?? throw new Formats.ModelFileException(Path, "has no tokenizer (tokenizer.json or tokenizer.ggml.* metadata); pass token ids instead");
    /// <summary>Hyper-parameters.</summary>
    public ModelConfig Config => Model.Config;
    /// <summary>How many tensors of each element type the file holds, e.g. {"F32": 23}.</summary>
    public IReadOnlyDictionary<string, long> TensorTypes { get; }

    /// <summary>Number of parameters the model uses (the tied head counted once).</summary>
    public long ParameterCount
    {
        get
        {
            var w = Model.Weights;
            long count = (long)w.TokenEmbedding.Rows * w.TokenEmbedding.Columns + w.FinalNorm.Length;
            if (!Config.TiedEmbeddings) count += (long)w.Output.Rows * w.Output.Columns;
            foreach (var l in w.Layers)
            {
                count += l.AttentionNorm.Length + l.FeedForwardNorm.Length + (l.QueryNorm?.Length ?? 0) + (l.KeyNorm?.Length ?? 0);
                foreach (var m in new[] { l.Query, l.Key, l.Value, l.Output, l.Gate, l.Up, l.Down }) count += (long)m.Rows * m.Columns;
            }
            return count;
        }
    }

    public void Dispose() => Model.Dispose();
}
