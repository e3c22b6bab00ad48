using Dclm.Formats;
using Dclm.Formats.Onnx;
using Google.Protobuf;

namespace Dclm.Export.Onnx;

/// <summary>
/// Writes an ONNX model whose weights are produced tensor by tensor while writing, so memory stays bounded by the
/// largest tensor's working set whatever the model's size. Either inside <c>model.onnx</c>, when the whole file
/// stays under protobuf's 2 GiB message limit, or (larger models, or when asked) in ONNX's external-data layout:
/// <c>model.onnx</c> holds the graph and each weight's (location, offset, length) into <c>model.onnx.data</c>.
/// </summary>
internal static class OnnxModelWriter
{
    /// <summary>Largest weight total written inside model.onnx (protobuf refuses messages of 2 GiB and more).</summary>
    public const long InlineLimit = 2_000_000_000;
    /// <summary>Tensors at least this large start on a 64 KiB boundary of the data file, so runtimes can map them in place (Windows maps at 64 KiB granularity).</summary>
    private const long AlignedTensorBytes = 1 << 20;
    private const long LargeAlignment = 1 << 16, SmallAlignment = 64;
    // Field numbers in onnx.proto.
    private const int ModelGraphField = 7, GraphInitializerField = 5, TensorRawDataField = 9;

    /// <summary>
    /// Writes <paramref name="model"/> (its graph without the weights) and <paramref name="weights"/> to
    /// <paramref name="path"/>, with external data when <paramref name="externalData"/> or when the weights reach
    /// <see cref="InlineLimit"/>. Each file appears whole or not at all. Returns the data file's path, or null.
    /// </summary>
    public static string? Write(ModelProto model, IReadOnlyList<StreamedTensor> weights, string path, bool externalData,
        IProgress<(int Done, int Total)>? progress, CancellationToken cancellation)
    {
        long total = weights.Sum(w => w.ByteLength);
        int done = 0;
        void Written() => progress?.Report((++done, weights.Count));
        if (!externalData && total < InlineLimit)
        {
            AtomicFile.Write(path, stream => WriteInline(model, weights, stream, Written, cancellation));
            return null;
        }
        string dataPath = path + ".data";
        var placed = new List<TensorProto>(weights.Count);
        AtomicFile.Write(dataPath, stream =>
        {
            foreach (var weight in weights)
            {
                long alignment = weight.ByteLength >= AlignedTensorBytes ? LargeAlignment : SmallAlignment;
                Pad(stream, (alignment - stream.Position % alignment) % alignment);
                long offset = stream.Position;
                WriteData(weight, stream, cancellation);
                var header = weight.Header.Clone();
                header.DataLocation = TensorProto.Types.DataLocation.External;
                header.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = Path.GetFileName(dataPath) });
                header.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                header.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = weight.ByteLength.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                placed.Add(header);
                Written();
            }
        });
        var withWeights = model.Clone();
        withWeights.Graph.Initializer.AddRange(placed);
        AtomicFile.Write(path, stream => withWeights.WriteTo(stream));
        return dataPath;
    }

    /// <summary>
    /// The model with every weight as raw_data inside it, streamed: protobuf fields may come in any order and a
    /// repeated field's elements anywhere, so the graph's other fields are written first and each initializer after
    /// them, its header followed by a raw_data field whose bytes come straight from the tensor. Only the lengths must
    /// be known in advance, and they are.
    /// </summary>
    private static void WriteInline(ModelProto model, IReadOnlyList<StreamedTensor> weights, Stream stream, Action written, CancellationToken cancellation)
    {
        var withoutGraph = model.Clone();
        var graph = withoutGraph.Graph;
        withoutGraph.Graph = null;
        long graphSize = graph.CalculateSize();
        foreach (var weight in weights) graphSize += FieldSize(GraphInitializerField, InitializerSize(weight));
        if (graphSize + withoutGraph.CalculateSize() + 16 >= int.MaxValue)
            throw new InvalidOperationException($"the model takes {graphSize:N0} bytes, over protobuf's 2 GiB limit; write it with external data");

        var output = new CodedOutputStream(stream, leaveOpen: true);
        withoutGraph.WriteTo(output);
        output.WriteTag(ModelGraphField, WireFormat.WireType.LengthDelimited);
        output.WriteLength((int)graphSize);
        graph.WriteTo(output);
        foreach (var weight in weights)
        {
            output.WriteTag(GraphInitializerField, WireFormat.WireType.LengthDelimited);
            output.WriteLength((int)InitializerSize(weight));
            weight.Header.WriteTo(output);
            output.WriteTag(TensorRawDataField, WireFormat.WireType.LengthDelimited);
            output.WriteLength((int)weight.ByteLength);
            output.Flush();
            WriteData(weight, stream, cancellation);
            written();
        }
        output.Flush();
    }

    private static long InitializerSize(StreamedTensor weight) => weight.Header.CalculateSize() + FieldSize(TensorRawDataField, weight.ByteLength);

    /// <summary>Bytes of a length-delimited field: tag, length, content.</summary>
    private static long FieldSize(int field, long length) =>
        CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeLengthSize((int)Math.Min(length, int.MaxValue)) + length;

    private static void WriteData(StreamedTensor weight, Stream stream, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        var bounded = new BoundedWriteStream(stream, weight.ByteLength, weight.Header.Name);
        weight.Write(bounded, cancellation);
        bounded.CheckComplete();
    }

    private static void Pad(Stream stream, long count)
    {
        Span<byte> zeros = stackalloc byte[256];
        zeros.Clear();
        for (; count > 0; count -= Math.Min(count, zeros.Length)) stream.Write(zeros[..(int)Math.Min(count, zeros.Length)]);
    }
}
