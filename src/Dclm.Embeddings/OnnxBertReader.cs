using Dclm.Formats.Onnx;
using Google.Protobuf;

namespace Dclm.Embeddings;

/// <summary>
/// Reads the weights of a BERT encoder exported to ONNX by PyTorch (as sentence-transformers models are,
/// all-MiniLM-L6-v2 among them). Embedding tables and LayerNorm parameters keep their PyTorch names; the
/// exporter folds each linear layer into a MatMul against an anonymous (in, out) initializer followed by
/// an Add of the named bias, so a matrix is found through the bias its product feeds
/// ("encoder.layer.0.attention.self.query.bias" names the query weight) and transposed to (out, in).
/// </summary>
public static class OnnxBertReader
{
    /// <summary>Reads the encoder in <paramref name="model"/> (named <paramref name="source"/> in errors) with the attention shape the graph does not record.</summary>
    public static (BertConfig Config, float[] Words, float[] Positions, float[] TokenTypes, float[] NormGain, float[] NormBias, BertLayerTensors[] Layers)
        Read(Stream model, string source, int heads, float normEpsilon, int maxTokens)
    {
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(model);
        }
        catch (InvalidProtocolBufferException error)
        {
            throw new InvalidDataException($"{source}: not an ONNX model ({error.Message})", error);
        }
        var graph = proto.Graph ?? throw new InvalidDataException($"{source}: the ONNX model has no graph");
        var tensors = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        foreach (var tensor in graph.Initializer) tensors[tensor.Name] = tensor;
        var linear = LinearWeightsByBias(graph, tensors);

        float[] Named(string name, params long[] shape)
        {
            string? key = new[] { name, "bert." + name }.FirstOrDefault(tensors.ContainsKey);
            if (key is null) throw new InvalidDataException($"{source}: no initializer named {name}");
            return Floats(tensors[key], source, shape);
        }
        float[] Matrix(string prefix, long rows, long columns)
        {
            string? key = new[] { prefix, "bert." + prefix }.FirstOrDefault(p => linear.ContainsKey(p + ".bias"));
            if (key is null) throw new InvalidDataException($"{source}: no matrix product feeds the bias {prefix}.bias");
            var (tensor, transposed) = linear[key + ".bias"];
            var values = Floats(tensor, source, transposed ? [columns, rows] : [rows, columns]);
            return transposed ? Transpose(values, (int)columns, (int)rows) : values;
        }

        var words = tensors.Values.FirstOrDefault(t => t.Name.EndsWith("embeddings.word_embeddings.weight", StringComparison.Ordinal))
            ?? throw new InvalidDataException($"{source}: no embeddings.word_embeddings.weight initializer; not a BERT encoder");
        if (words.Dims.Count != 2) throw new InvalidDataException($"{source}: word embeddings of rank {words.Dims.Count}");
        int vocabulary = (int)words.Dims[0], width = (int)words.Dims[1];
        var positions = tensors.Values.First(t => t.Name.EndsWith("embeddings.position_embeddings.weight", StringComparison.Ordinal));
        var types = tensors.Values.First(t => t.Name.EndsWith("embeddings.token_type_embeddings.weight", StringComparison.Ordinal));
        int layers = 0;
        while (linear.Keys.Any(k => k.Contains($"encoder.layer.{layers}.", StringComparison.Ordinal))) layers++;
        if (layers == 0) throw new InvalidDataException($"{source}: no encoder.layer.N matrices found");
        string firstUp = linear.Keys.First(k => k.EndsWith("encoder.layer.0.intermediate.dense.bias", StringComparison.Ordinal));
        var (upTensor, _) = linear[firstUp];
        int feedForward = (int)upTensor.Dims.Max();
        var config = new BertConfig(vocabulary, width, layers, heads, feedForward, (int)positions.Dims[0], (int)types.Dims[0], normEpsilon, maxTokens);
        config.Validate();

        var layerTensors = new BertLayerTensors[layers];
        for (int l = 0; l < layers; l++)
        {
            string p = $"encoder.layer.{l}.";
            layerTensors[l] = new BertLayerTensors(
                Matrix(p + "attention.self.query", width, width), Named(p + "attention.self.query.bias", width),
                Matrix(p + "attention.self.key", width, width), Named(p + "attention.self.key.bias", width),
                Matrix(p + "attention.self.value", width, width), Named(p + "attention.self.value.bias", width),
                Matrix(p + "attention.output.dense", width, width), Named(p + "attention.output.dense.bias", width),
                Named(p + "attention.output.LayerNorm.weight", width), Named(p + "attention.output.LayerNorm.bias", width),
                Matrix(p + "intermediate.dense", feedForward, width), Named(p + "intermediate.dense.bias", feedForward),
                Matrix(p + "output.dense", width, feedForward), Named(p + "output.dense.bias", width),
                Named(p + "output.LayerNorm.weight", width), Named(p + "output.LayerNorm.bias", width));
        }
        return (config,
            Floats(words, source, vocabulary, width),
            Floats(positions, source, config.MaxPositions, width),
            Floats(types, source, config.TokenTypes, width),
            Named("embeddings.LayerNorm.weight", width), Named("embeddings.LayerNorm.bias", width),
            layerTensors);
    }

    // bias name → the weight initializer of the product it is added to, and whether that weight is
    // stored (in, out) as MatMul takes it (true) or (out, in) as Gemm with transB = 1 takes it.
    private static Dictionary<string, (TensorProto Weight, bool Transposed)> LinearWeightsByBias(GraphProto graph, Dictionary<string, TensorProto> tensors)
    {
        var products = new Dictionary<string, (TensorProto, bool)>(StringComparer.Ordinal);
        var result = new Dictionary<string, (TensorProto, bool)>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            if (node.OpType == "MatMul" && node.Input.Count == 2 && tensors.TryGetValue(node.Input[1], out var weight) && weight.Dims.Count == 2)
                products[node.Output[0]] = (weight, true);
            else if (node.OpType == "Gemm" && node.Input.Count == 3 && tensors.TryGetValue(node.Input[1], out var gemmWeight) && tensors.ContainsKey(node.Input[2]))
            {
                bool transB = node.Attribute.Any(a => a.Name == "transB" && a.I == 1);
                result[node.Input[2]] = (gemmWeight, !transB);
            }
            else if (node.OpType == "Add" && node.Input.Count == 2)
            {
                for (int side = 0; side < 2; side++)
                    if (products.TryGetValue(node.Input[side], out var product) && tensors.ContainsKey(node.Input[1 - side]))
                        result[node.Input[1 - side]] = product;
            }
        }
        return result;
    }

    private static float[] Floats(TensorProto tensor, string source, params long[] shape)
    {
        if (tensor.DataType != (int)TensorProto.Types.DataType.Float)
            throw new InvalidDataException($"{source}: {tensor.Name} is {(TensorProto.Types.DataType)tensor.DataType}, only float tensors are read");
        if (!tensor.Dims.SequenceEqual(shape))
            throw new InvalidDataException($"{source}: {tensor.Name} has shape [{string.Join(", ", tensor.Dims)}], expected [{string.Join(", ", shape)}]");
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
            throw new InvalidDataException($"{source}: {tensor.Name} is stored in an external data file, which is not read");
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (tensor.RawData.Length > 0)
        {
            if (tensor.RawData.Length != count * sizeof(float)) throw new InvalidDataException($"{source}: {tensor.Name} holds {tensor.RawData.Length} bytes, expected {count * sizeof(float)}");
            var values = new float[count];
            // ONNX raw data is little-endian, as is every platform .NET runs this on.
            tensor.RawData.Span.CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
            return values;
        }
        if (tensor.FloatData.Count != count) throw new InvalidDataException($"{source}: {tensor.Name} holds {tensor.FloatData.Count} values, expected {count}");
        return tensor.FloatData.ToArray();
    }

    private static float[] Transpose(float[] values, int rows, int columns)
    {
        var result = new float[values.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                result[c * rows + r] = values[r * columns + c];
        return result;
    }
}
