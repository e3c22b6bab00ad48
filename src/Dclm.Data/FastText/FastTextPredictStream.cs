using System.Globalization;
using System.Text;

namespace Dclm.Data.FastText;

/// <summary>
/// fastText's <c>predict-prob MODEL - k threshold</c>: reads UTF-8 text, predicts line by line exactly as the
/// fastText command line does (a literal "&lt;/s&gt;" token also ends a line, a last line without newline is still
/// predicted), and writes one output line per prediction: <c>__label__en 0.697451</c>, k pairs separated by spaces,
/// probabilities printed as C++ streams print floats (6 significant digits).
/// </summary>
public static class FastTextPredictStream
{
    /// <summary>Predicts every line of <paramref name="input"/> into <paramref name="output"/>; returns the lines predicted.</summary>
    public static long Run(FastTextModel model, Stream input, TextWriter output, int k, float threshold, CancellationToken cancellation = default)
    {
        var buffer = new byte[1 << 16];
        int length = 0;
        long lines = 0;
        var predictions = new List<FastTextPrediction>();
        var line = new StringBuilder();
        bool endOfInput = false;
        while (!endOfInput)
        {
            if (length == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
            int read = input.Read(buffer, length, buffer.Length - length);
            if (read == 0) endOfInput = true;
            length += read;
            // Predict only what ends in a newline until the input is exhausted.
            int complete = endOfInput ? length : buffer.AsSpan(0, length).LastIndexOf((byte)'\n') + 1;
            int position = 0;
            while (position < complete)
            {
                cancellation.ThrowIfCancellationRequested();
                predictions.Clear();
                model.PredictLine(buffer.AsSpan(0, complete), ref position, k, threshold, predictions);
                Write(predictions, line);
                output.Write(line);
                lines++;
            }
            buffer.AsSpan(complete, length - complete).CopyTo(buffer);
            length -= complete;
        }
        output.Flush();
        return lines;
    }

    /// <summary>One output line: "label prob label prob ...\n".</summary>
    public static void Write(IReadOnlyList<FastTextPrediction> predictions, StringBuilder line)
    {
        line.Clear();
        for (int i = 0; i < predictions.Count; i++)
        {
            if (i > 0) line.Append(' ');
            line.Append(predictions[i].Name).Append(' ').Append(FormatProbability(predictions[i].Probability));
        }
        line.Append('\n');
    }

    /// <summary>A float as <c>std::ostream</c> prints it by default (<c>%g</c>, 6 significant digits): 0.697451, 1.00001, 5e-05.</summary>
    public static string FormatProbability(float value) =>
        ((double)value).ToString("G6", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);
}
