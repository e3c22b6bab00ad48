using System.Runtime.CompilerServices;

namespace Dclm.Tensors.Compute;

/// <summary>
/// Quantized activations of eight tokens regrouped so that vector lanes are tokens: for each block of
/// 32 columns, eight 32-byte groups (group j holds levels 4j..4j+3 of token 0, then of token 1, ...,
/// token 7), then the eight tokens' 8·Σ levels of the block (int32), then their scales (float).
/// A weight kernel broadcasts four of its levels to all lanes and one pmaddubsw multiplies them
/// with four levels of each of the eight tokens at once, so a block's sum for eight tokens ends up
/// in eight lanes with no horizontal reduction.
/// </summary>
internal static unsafe class Q8Tiles
{
    /// <summary>Tokens per tile, one per 32-bit lane of a 256-bit vector.</summary>
    public const int Tokens = 8;

    /// <summary>Bytes of one block of a tile: 8 groups of 32 bytes, 8 offsets, 8 scales.</summary>
    public const int BlockBytes = 8 * 32 + 8 * 4 + 8 * 4;

    /// <summary>Byte offset of the offsets (8·Σ levels, int32 per token) inside a tile block.</summary>
    public const int OffsetsAt = 8 * 32;

    /// <summary>Byte offset of the scales (float per token) inside a tile block.</summary>
    public const int ScalesAt = 8 * 32 + 8 * 4;

    /// <summary>Bytes of one tile over <paramref name="columns"/> columns.</summary>
    public static nuint TileBytes(int columns) => (nuint)(columns / 32) * BlockBytes;

    /// <summary>
    /// Regroups tokens [first, first + count) of a <see cref="Q8Row"/> buffer into one tile;
    /// lanes past <paramref name="count"/> get zero levels, offsets and scales.
    /// </summary>
    public static void Build(byte* rows, int columns, int first, int count, byte* tile)
    {
        int blocks = columns / 32;
        for (int k = 0; k < Tokens; k++)
        {
            bool present = k < count;
            Q8Row row = present ? Q8Activations.Row(rows, columns, first + k) : default;
            byte* block = tile;
            for (int b = 0; b < blocks; b++, block += BlockBytes)
            {
                int* groups = (int*)block;
                if (!present)
                {
                    for (int j = 0; j < 8; j++) groups[j * Tokens + k] = 0;
                    ((int*)(block + OffsetsAt))[k] = 0;
                    ((float*)(block + ScalesAt))[k] = 0;
                    continue;
                }
                int* levels = (int*)(row.Quants + b * 32);
                int* nibbleOffsets = row.NibbleOffsets + b * 8;
                int offset = 0;
                for (int j = 0; j < 8; j++)
                {
                    groups[j * Tokens + k] = levels[j];
                    offset += nibbleOffsets[j];
                }
                ((int*)(block + OffsetsAt))[k] = offset;
                ((float*)(block + ScalesAt))[k] = row.Scales[b];
            }
        }
    }

    /// <summary>Level <paramref name="column"/> of lane <paramref name="token"/> in a tile, for references and tests.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static sbyte Level(byte* tile, int token, int column) =>
        (sbyte)tile[(nuint)(column / 32) * BlockBytes + (nuint)(column % 32 / 4 * 32 + token * 4 + column % 4)];
}
