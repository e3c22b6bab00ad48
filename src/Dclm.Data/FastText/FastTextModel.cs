using System.Buffers;
using System.Text;

namespace Dclm.Data.FastText;

/// <summary>
/// A fastText model read from its <c>.bin</c> or <c>.ftz</c> file (format version 11 or 12): arguments,
/// dictionary, input matrix (dense or product-quantized) and output matrix. <see cref="Predict(string, int, float)"/>
/// gives the labels and probabilities fastText's <c>predict</c> gives for the same text. Immutable and safe to
/// share between threads; a model loaded from a file maps it and must be disposed.
/// </summary>
public sealed class FastTextModel : IDisposable
{
    /// <summary>The magic number every fastText model starts with.</summary>
    public const int Magic = 793712314;

    /// <summary>The format version fastText writes (12) and the highest it reads.</summary>
    public const int CurrentVersion = 12;

    [ThreadStatic] private static PredictionScratch? _scratch;
    private readonly FastTextBuffer? _buffer;
    private readonly FastTextOutput _output;

    internal FastTextModel(FastTextArgs args, FastTextDictionary dictionary, FastTextMatrix input, FastTextMatrix output, int version = CurrentVersion, FastTextBuffer? buffer = null)
    {
        Args = args;
        Dictionary = dictionary;
        Input = input;
        Output = output;
        Version = version;
        _buffer = buffer;
        _output = FastTextOutput.Create(args.Loss, output, dictionary);
    }

    /// <summary>Training arguments stored in the file.</summary>
    public FastTextArgs Args { get; }

    /// <summary>Words and labels.</summary>
    public FastTextDictionary Dictionary { get; }

    /// <summary>Input (embedding) matrix: (words + buckets, dim).</summary>
    public FastTextMatrix Input { get; }

    /// <summary>Output matrix: (labels, dim); hierarchical softmax uses its first labels − 1 rows for the tree's inner nodes.</summary>
    public FastTextMatrix Output { get; }

    /// <summary>File format version.</summary>
    public int Version { get; }

    /// <summary>True for <c>.ftz</c> models whose input matrix is product-quantized.</summary>
    public bool IsQuantized => Input is QuantizedFastTextMatrix;

    /// <summary>Label names in output order.</summary>
    public IReadOnlyList<string> Labels => Dictionary.Labels;

    /// <summary>Loads a model file, mapping it into memory.</summary>
    public static FastTextModel Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: fastText model not found", path);
        var buffer = FastTextBuffer.Map(path);
        return Load(buffer, path);
    }

    /// <summary>Loads a model from a stream (read to its end); <paramref name="name"/> labels errors.</summary>
    public static FastTextModel Load(Stream stream, string name) => Load(FastTextBuffer.Read(stream), name);

    private static FastTextModel Load(FastTextBuffer buffer, string name)
    {
        try
        {
            var reader = new FastTextReader(buffer, name);
            reader.Require(reader.Remaining >= 8, "file shorter than its 8-byte header");
            int magic = reader.Int32();
            if (magic != Magic) throw new InvalidDataException($"{name}: not a fastText model (magic {magic}, expected {Magic})");
            int version = reader.Int32();
            reader.Require(version is 11 or CurrentVersion, $"format version {version} (this reader knows 11 and 12)");
            var args = FastTextArgs.Read(reader);
            // fastText: version-11 supervised models had no character n-grams.
            if (version == 11 && args.Model == FastTextModelKind.Supervised) args = args with { MaxN = 0 };
            var dictionary = FastTextDictionary.Read(reader, args);
            bool quantizedInput = reader.Boolean();
            FastTextMatrix input = quantizedInput ? QuantizedFastTextMatrix.Read(reader, "input matrix") : DenseFastTextMatrix.Read(reader, "input matrix");
            reader.Require(quantizedInput || !dictionary.IsPruned, "a pruned dictionary needs a quantized input matrix");
            bool quantizedOutput = reader.Boolean();
            FastTextMatrix output = quantizedInput && quantizedOutput ? QuantizedFastTextMatrix.Read(reader, "output matrix") : DenseFastTextMatrix.Read(reader, "output matrix");
            reader.Require(input.Rows == dictionary.InputRows, $"input matrix has {input.Rows} rows; the dictionary addresses {dictionary.InputRows}");
            reader.Require(input.Columns == args.Dimension && output.Columns == args.Dimension, $"matrix widths {input.Columns}/{output.Columns} differ from dim {args.Dimension}");
            long expectedOutput = args.Model == FastTextModelKind.Supervised ? dictionary.LabelCount : dictionary.WordCount;
            reader.Require(output.Rows == expectedOutput, $"output matrix has {output.Rows} rows; expected {expectedOutput} (one per {(args.Model == FastTextModelKind.Supervised ? "label" : "word")})");
            reader.Require(reader.Remaining == 0, $"{reader.Remaining} unexpected bytes after the output matrix");
            return new FastTextModel(args, dictionary, input, output, version, buffer);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Writes the model in fastText's format (version 12); only unquantized models can be written.</summary>
    public void Save(Stream stream)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(CurrentVersion);
        Args.Write(writer);
        Dictionary.Write(writer);
        writer.Write(false);
        Input.Write(writer);
        writer.Write(false);
        Output.Write(writer);
    }

    /// <summary>
    /// fastText's <c>predict(text, k, threshold)</c> as its Python and WebAssembly bindings call it: the text followed
    /// by a newline, read up to the first newline. k = -1 returns every label.
    /// </summary>
    public IReadOnlyList<FastTextPrediction> Predict(string text, int k = 1, float threshold = 0f)
    {
        var scratch = _scratch ??= new PredictionScratch();
        var bytes = scratch.Encode(text);
        int position = 0;
        var result = new List<FastTextPrediction>();
        PredictLine(bytes, ref position, k, threshold, result);
        return result;
    }

    /// <summary>
    /// The top label and its probability for <paramref name="text"/> (null when the text has no features); with
    /// <paramref name="deleteNewlines"/> the text is read as <c>text.replace("\n", "")</c>, without copying it.
    /// </summary>
    public FastTextPrediction? PredictBest(string text, bool deleteNewlines = false)
    {
        var scratch = _scratch ??= new PredictionScratch();
        var bytes = scratch.Encode(text, deleteNewlines);
        int position = 0;
        scratch.Predictions.Clear();
        PredictLine(bytes, ref position, 1, 0f, scratch.Predictions);
        return scratch.Predictions.Count == 0 ? null : scratch.Predictions[0];
    }

    /// <summary>
    /// fastText's <c>predictLine</c>: reads one line of UTF-8 <paramref name="text"/> from <paramref name="position"/>
    /// (through its newline, or to the end) and appends its k best labels to <paramref name="predictions"/>.
    /// </summary>
    public void PredictLine(ReadOnlySpan<byte> text, ref int position, int k, float threshold, List<FastTextPrediction> predictions)
    {
        if (Args.Model != FastTextModelKind.Supervised) throw new InvalidOperationException("only supervised fastText models predict labels");
        if (k == -1) k = Dictionary.LabelCount;
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), "k must be 1 or more, or -1 for every label");
        var scratch = _scratch ??= new PredictionScratch();
        Dictionary.ReadLine(text, ref position, scratch.Features);
        if (scratch.Features.Count == 0) return;
        var hidden = scratch.Hidden(Args.Dimension);
        Input.AverageRows(scratch.Features.Rows, hidden);
        scratch.Heap.Clear();
        _output.Predict(hidden, Math.Min(k, Math.Max(1, Dictionary.LabelCount)), threshold, scratch.Output((int)Output.Rows), scratch.Heap);
        scratch.Heap.Sort();
        for (int i = 0; i < scratch.Heap.Count; i++)
        {
            var (score, label) = scratch.Heap[i];
            predictions.Add(new FastTextPrediction(label, Dictionary.Labels[label], MathF.Exp(score)));
        }
    }

    /// <summary>The averaged input vector of <paramref name="text"/>'s features (fastText's sentence vector for supervised models).</summary>
    public float[] HiddenVector(string text)
    {
        var scratch = _scratch ??= new PredictionScratch();
        var bytes = scratch.Encode(text);
        int position = 0;
        Dictionary.ReadLine(bytes, ref position, scratch.Features);
        var hidden = new float[Args.Dimension];
        if (scratch.Features.Count > 0) Input.AverageRows(scratch.Features.Rows, hidden);
        return hidden;
    }

    /// <inheritdoc />
    public void Dispose() => _buffer?.Dispose();

    private sealed class PredictionScratch
    {
        private float[] _hidden = [];
        private float[] _output = [];
        private byte[] _utf8 = new byte[4096];

        public FastTextFeatures Features { get; } = new();
        public PredictionHeap Heap { get; } = new();
        public List<FastTextPrediction> Predictions { get; } = new();

        public Span<float> Hidden(int dimension)
        {
            if (_hidden.Length < dimension) _hidden = new float[dimension];
            return _hidden.AsSpan(0, dimension);
        }

        public Span<float> Output(int rows)
        {
            if (_output.Length < rows) _output = new float[rows];
            return _output.AsSpan(0, rows);
        }

        /// <summary>UTF-8 of <paramref name="text"/> (optionally without its newlines) followed by '\n', as the bindings append it.</summary>
        public ReadOnlySpan<byte> Encode(string text, bool deleteNewlines = false)
        {
            int maximum = Encoding.UTF8.GetMaxByteCount(text.Length) + 1;
            if (_utf8.Length < maximum)
            {
                int exact = Encoding.UTF8.GetByteCount(text) + 1;
                if (_utf8.Length < exact) _utf8 = new byte[Math.Max(exact, _utf8.Length * 2)];
            }
            int length = 0;
            if (!deleteNewlines) length = Encoding.UTF8.GetBytes(text, _utf8);
            else
            {
                // A newline never splits a surrogate pair, so the pieces between newlines encode on their own.
                foreach (var range in text.AsSpan().Split('\n')) length += Encoding.UTF8.GetBytes(text.AsSpan(range), _utf8.AsSpan(length));
            }
            _utf8[length] = (byte)'\n';
            return _utf8.AsSpan(0, length + 1);
        }
    }
}
