using Dclm.Formats.Onnx;
using Google.Protobuf;
using DataType = Dclm.Formats.Onnx.TensorProto.Types.DataType;

namespace Dclm.Export.Onnx;

/// <summary>
/// A tensor whose bytes are produced while the file is written (a weight), so that no weight is ever held in
/// memory whole: <see cref="Header"/> names it and gives its type and shape, <see cref="Write"/> writes exactly
/// <see cref="ByteLength"/> bytes of it, row-major and little-endian.
/// </summary>
internal sealed class StreamedTensor(TensorProto header, long byteLength, Action<Stream, CancellationToken> write)
{
    /// <summary>Name, element type and dimensions; no data.</summary>
    public TensorProto Header { get; } = header;
    /// <summary>Bytes <see cref="Write"/> produces.</summary>
    public long ByteLength { get; } = byteLength;
    /// <summary>Writes the tensor's bytes.</summary>
    public Action<Stream, CancellationToken> Write { get; } = write;
}

/// <summary>An attribute of a node.</summary>
internal readonly record struct NodeAttribute(AttributeProto Proto)
{
    public static NodeAttribute Int(string name, long value) =>
        new(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value });

    public static NodeAttribute Float(string name, float value) =>
        new(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value });

    public static NodeAttribute Ints(string name, params long[] values)
    {
        var proto = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        proto.Ints.AddRange(values);
        return new(proto);
    }
}

/// <summary>
/// An ONNX graph under construction: nodes, inputs and outputs, small constants held in the graph itself, and
/// weights as <see cref="StreamedTensor"/>s written later by <see cref="OnnxModelWriter"/>. Node names follow the
/// <see cref="Scope"/> they are made in ("/model/layers.3/attn/MatMul_12"), as the ONNX Runtime model builder's do,
/// so a viewer such as Netron shows the layers as groups.
/// </summary>
internal sealed class OnnxGraph
{
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private readonly HashSet<string> _weightNames = new(StringComparer.Ordinal);
    private int _nodes;

    /// <summary>The graph: nodes, inputs, outputs and constants (weights are kept apart, in <see cref="Weights"/>).</summary>
    public GraphProto Proto { get; } = new() { Name = "main_graph" };
    /// <summary>Every weight, in the order they are written.</summary>
    public List<StreamedTensor> Weights { get; } = [];
    /// <summary>Prefix of the names of nodes made now.</summary>
    public string Scope { get; set; } = "/model";

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Op(string type, params string[] inputs) => Node(type, inputs, 1, [])[0];

    /// <summary>Adds a node with one output and attributes, and returns the output's name.</summary>
    public string Op(string type, string[] inputs, params NodeAttribute[] attributes) => Node(type, inputs, 1, attributes)[0];

    /// <summary>
    /// Adds a node of <paramref name="type"/> in <paramref name="domain"/> ("" for ONNX's own operators) and returns its
    /// outputs: <paramref name="outputNames"/> when given (graph outputs such as "logits"), else names made from the node's.
    /// An empty input name stands for an optional input left out.
    /// </summary>
    public string[] Node(string type, string[] inputs, int outputs, NodeAttribute[] attributes, string domain = "", string[]? outputNames = null)
    {
        string name = $"{Scope}/{type}_{_nodes++}";
        var node = new NodeProto { Name = name, OpType = type, Domain = domain };
        node.Input.AddRange(inputs);
        var result = outputNames ?? Enumerable.Range(0, outputs).Select(i => $"{name}/output_{i}").ToArray();
        node.Output.AddRange(result);
        foreach (var attribute in attributes) node.Attribute.Add(attribute.Proto);
        Proto.Node.Add(node);
        return result;
    }

    /// <summary>A constant 1-D int64 tensor (a shape, an axis list), made once per distinct value.</summary>
    public string Int64s(params long[] values)
    {
        string key = "int64:" + string.Join(',', values);
        if (_constants.TryGetValue(key, out var existing)) return existing;
        var tensor = new TensorProto { Name = $"/model/constants/INT64_{_constants.Count}", DataType = (int)DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        return AddConstant(key, tensor);
    }

    /// <summary>A constant 0-D int64 tensor (CumSum's axis).</summary>
    public string Int64Scalar(long value)
    {
        string key = "int64 scalar:" + value;
        if (_constants.TryGetValue(key, out var existing)) return existing;
        var tensor = new TensorProto { Name = $"/model/constants/INT64_SCALAR_{_constants.Count}", DataType = (int)DataType.Int64 };
        tensor.RawData = ByteString.CopyFrom(BitConverter.GetBytes(value));
        return AddConstant(key, tensor);
    }

    /// <summary>A constant scalar of <paramref name="type"/> (float or float16) holding <paramref name="value"/>.</summary>
    public string Scalar(float value, DataType type)
    {
        string key = $"{type}:{value:R}";
        if (_constants.TryGetValue(key, out var existing)) return existing;
        var tensor = new TensorProto { Name = $"/model/constants/{type.ToString().ToUpperInvariant()}_{_constants.Count}", DataType = (int)type };
        tensor.RawData = type switch
        {
            DataType.Float => ByteString.CopyFrom(BitConverter.GetBytes(value)),
            DataType.Float16 => ByteString.CopyFrom(BitConverter.GetBytes((Half)value)),
            _ => throw new ArgumentOutOfRangeException(nameof(type), $"no {type} scalars"),
        };
        return AddConstant(key, tensor);
    }

    /// <summary>A constant float vector of <paramref name="type"/>, small enough to keep in the graph (RoPE frequencies, ALiBi slopes).</summary>
    public string Floats(string name, float[] values, DataType type)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type };
        tensor.Dims.Add(values.Length);
        tensor.RawData = type == DataType.Float
            ? ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()))
            : ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.Select(v => (Half)v).ToArray().AsSpan()));
        return AddConstant("named:" + name, tensor);
    }

    /// <summary>
    /// Adds a weight <paramref name="name"/> of <paramref name="type"/> and <paramref name="dims"/>, whose bytes
    /// <paramref name="write"/> produces when the file is written; returns its name.
    /// </summary>
    public string Weight(string name, DataType type, long[] dims, Action<Stream, CancellationToken> write)
    {
        if (!_weightNames.Add(name)) throw new InvalidOperationException($"two weights are named {name}");
        var header = new TensorProto { Name = name, DataType = (int)type };
        header.Dims.AddRange(dims);
        long count = dims.Aggregate(1L, (a, b) => a * b);
        Weights.Add(new StreamedTensor(header, count * ElementSize(type), write));
        return name;
    }

    /// <summary>Declares a graph input; a dimension is a number or a symbolic name ("batch_size").</summary>
    public string Input(string name, DataType type, params object[] dims)
    {
        Proto.Input.Add(ValueInfo(name, type, dims));
        return name;
    }

    /// <summary>Declares a graph output; a dimension is a number or a symbolic name.</summary>
    public void Output(string name, DataType type, params object[] dims) => Proto.Output.Add(ValueInfo(name, type, dims));

    /// <summary>Bytes of one element of <paramref name="type"/>.</summary>
    public static int ElementSize(DataType type) => type switch
    {
        DataType.Uint8 or DataType.Int8 or DataType.Bool => 1,
        DataType.Float16 => 2,
        DataType.Float or DataType.Int32 => 4,
        DataType.Int64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), $"no size known for {type}"),
    };

    private string AddConstant(string key, TensorProto tensor)
    {
        Proto.Initializer.Add(tensor);
        _constants[key] = tensor.Name;
        return tensor.Name;
    }

    private static ValueInfoProto ValueInfo(string name, DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
            shape.Dim.Add(dim switch
            {
                string symbol => new TensorShapeProto.Types.Dimension { DimParam = symbol },
                int value => new TensorShapeProto.Types.Dimension { DimValue = value },
                long value => new TensorShapeProto.Types.Dimension { DimValue = value },
                _ => throw new ArgumentException($"dimension {dim} of {name} is neither a number nor a name"),
            });
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape };
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }
}
