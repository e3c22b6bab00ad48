namespace Dclm.Tensors.Numerics;

/// <summary>The span entry points of the bulk conversions: one length check, then the loop over raw memory.</summary>
internal static unsafe class SpanConversion
{
    /// <summary>convert(source, destination, source.Length) once <paramref name="destination"/> is known to hold as many elements.</summary>
    public static void Run<TSource, TDestination>(ReadOnlySpan<TSource> source, Span<TDestination> destination,
        delegate*<TSource*, TDestination*, int, void> convert) where TSource : unmanaged where TDestination : unmanaged
    {
        if (destination.Length < source.Length) throw new ArgumentException("destination is shorter than source", nameof(destination));
        fixed (TSource* s = source)
        fixed (TDestination* d = destination)
            convert(s, d, source.Length);
    }
}
