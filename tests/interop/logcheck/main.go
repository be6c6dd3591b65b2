// Command logcheck verifies an iPortalis consent log with Go's own transparency-log code,
// golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog, and nothing else but the
// standard library: the proof that standard verifiers accept the log as it is served.
//
//	logcheck -site URL -key KEY [-old FILE] [-index N -entry BASE64] [-receipt FILE]
//
// It fetches URL/consent-log/checkpoint and opens it with the verifier KEY; reads the tiles it
// needs from URL/consent-log/tile/... through tlog.TileHashReader, which authenticates every
// tile against the signed root; with -old, proves that the tree only grew since an older
// checkpoint (tlog.ProveTree, tlog.CheckTree); with -index and -entry, proves that entry is
// leaf N (tlog.ProveRecord, tlog.CheckRecord); with -receipt, checks a consent receipt's
// own checkpoint and inclusion proof, then that its checkpoint is a prefix of today's tree.
//
// Build it without modules, against Debian's golang-golang-x-mod-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o logcheck ./tests/interop/logcheck
//
// It prints what it proved and exits 0, or prints why not and exits 1 (2: bad arguments).
package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const (
	tileHeight = 8       // C2SP tlog-tiles
	maxNote    = 1 << 16 // far more than a checkpoint with its cosignatures
)

var client = &http.Client{Timeout: 30 * time.Second}

func main() {
	site := flag.String("site", "", "the site's base URL, e.g. https://example.com")
	key := flag.String("key", "", "the log's verifier key, <origin>+<key ID>+<key>")
	old := flag.String("old", "", "a file holding an older checkpoint of the log")
	index := flag.Int64("index", -1, "the leaf index of -entry")
	entry := flag.String("entry", "", "an entry, base64, to prove at -index")
	receipt := flag.String("receipt", "", "a consent receipt (JSON) to check")
	flag.Parse()
	if *site == "" || *key == "" || (*entry == "") != (*index < 0) {
		fmt.Fprintln(os.Stderr, "usage: logcheck -site URL -key KEY [-old FILE] [-index N -entry BASE64] [-receipt FILE]")
		os.Exit(2)
	}
	if err := run(strings.TrimRight(*site, "/"), *key, *old, *index, *entry, *receipt); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
}

func run(site, key, oldFile string, index int64, entry, receiptFile string) error {
	verifier, err := note.NewVerifier(key)
	if err != nil {
		return fmt.Errorf("the key: %v", err)
	}
	text, err := get(site + "/consent-log/checkpoint")
	if err != nil {
		return err
	}
	tree, err := openCheckpoint(text, verifier)
	if err != nil {
		return fmt.Errorf("the site's checkpoint: %v", err)
	}
	fmt.Printf("checkpoint: signed by %s, %d entries, root %s\n", verifier.Name(), tree.N, tree.Hash)

	hashes := tlog.TileHashReader(tree, &tileReader{site: site})
	root, err := tlog.TreeHash(tree.N, hashes)
	if err != nil {
		return fmt.Errorf("the tiles: %v", err)
	}
	if root != tree.Hash {
		return errors.New("the tiles hash to another root than the checkpoint's")
	}
	fmt.Println("tiles: they hash to the signed root")

	if oldFile != "" {
		data, err := os.ReadFile(oldFile)
		if err != nil {
			return err
		}
		older, err := openCheckpoint(data, verifier)
		if err != nil {
			return fmt.Errorf("the older checkpoint: %v", err)
		}
		if err := checkGrew(older, tree, hashes); err != nil {
			return err
		}
		fmt.Printf("consistency: the tree of %d entries extends the older one of %d\n", tree.N, older.N)
	}

	if entry != "" {
		data, err := base64.StdEncoding.DecodeString(entry)
		if err != nil {
			return fmt.Errorf("-entry is not base64: %v", err)
		}
		if index >= tree.N {
			return fmt.Errorf("leaf %d is beyond the tree of %d entries", index, tree.N)
		}
		proof, err := tlog.ProveRecord(tree.N, index, hashes)
		if err != nil {
			return fmt.Errorf("proving leaf %d: %v", index, err)
		}
		// tlog.RecordHash is RFC 6962's leaf hash, SHA-256(0x00 || entry): the log's own.
		if err := tlog.CheckRecord(proof, tree.N, tree.Hash, index, tlog.RecordHash(data)); err != nil {
			return fmt.Errorf("the entry is not leaf %d: %v", index, err)
		}
		fmt.Printf("inclusion: the entry is leaf %d of the tree\n", index)
	}

	if receiptFile != "" {
		if err := checkReceipt(receiptFile, verifier, tree, hashes); err != nil {
			return fmt.Errorf("the receipt: %v", err)
		}
	}
	return nil
}

// openCheckpoint verifies a checkpoint note (C2SP tlog-checkpoint) and returns its tree.
// Other signatures, such as witnesses' cosignatures, are left unverified, as note.Open does.
func openCheckpoint(text []byte, verifier note.Verifier) (tlog.Tree, error) {
	n, err := note.Open(text, note.VerifierList(verifier))
	if err != nil {
		return tlog.Tree{}, err
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 || lines[0] != verifier.Name() {
		return tlog.Tree{}, errors.New("not a checkpoint of this log (origin, size, root hash)")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return tlog.Tree{}, fmt.Errorf("malformed tree size %q", lines[1])
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("malformed root hash %q", lines[2])
	}
	return tlog.Tree{N: size, Hash: root}, nil
}

// checkGrew proves that the tree `older` is a prefix of `tree`: no entry was removed,
// reordered or rewritten between them.
func checkGrew(older, tree tlog.Tree, hashes tlog.HashReader) error {
	switch {
	case older.N > tree.N:
		return fmt.Errorf("rolled back: the site's tree has %d entries, an older checkpoint %d", tree.N, older.N)
	case older.N == tree.N:
		if older.Hash != tree.Hash {
			return fmt.Errorf("forked: two checkpoints of %d entries with different roots", tree.N)
		}
		return nil
	case older.N == 0:
		return nil
	}
	proof, err := tlog.ProveTree(tree.N, older.N, hashes)
	if err != nil {
		return fmt.Errorf("proving consistency: %v", err)
	}
	if err := tlog.CheckTree(proof, tree.N, tree.Hash, older.N, older.Hash); err != nil {
		return fmt.Errorf("the tree of %d entries does not extend the older one of %d: %v", tree.N, older.N, err)
	}
	return nil
}

// checkReceipt checks a consent receipt (its "log" part) as an auditor would with Go's tlog:
// its checkpoint's signature, its inclusion proof, and that its checkpoint is a prefix of
// today's tree.
func checkReceipt(file string, verifier note.Verifier, tree tlog.Tree, hashes tlog.HashReader) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var receipt struct {
		Log struct {
			Index          *int64   `json:"index"`
			Entry          string   `json:"entry"`
			Checkpoint     string   `json:"checkpoint"`
			InclusionProof []string `json:"inclusion_proof"`
		} `json:"log"`
	}
	if err := json.Unmarshal(data, &receipt); err != nil {
		return err
	}
	log := receipt.Log
	if log.Index == nil || log.Checkpoint == "" {
		return errors.New("it carries no inclusion proof (not integrated yet?)")
	}
	signed, err := openCheckpoint([]byte(log.Checkpoint), verifier)
	if err != nil {
		return fmt.Errorf("its checkpoint: %v", err)
	}
	entry, err := base64.StdEncoding.DecodeString(log.Entry)
	if err != nil {
		return fmt.Errorf("its entry is not base64: %v", err)
	}
	proof := make(tlog.RecordProof, len(log.InclusionProof))
	for i, encoded := range log.InclusionProof {
		if proof[i], err = tlog.ParseHash(encoded); err != nil {
			return fmt.Errorf("its inclusion proof: %v", err)
		}
	}
	if *log.Index < 0 || *log.Index >= signed.N {
		return fmt.Errorf("leaf %d is beyond its checkpoint of %d entries", *log.Index, signed.N)
	}
	if err := tlog.CheckRecord(proof, signed.N, signed.Hash, *log.Index, tlog.RecordHash(entry)); err != nil {
		return fmt.Errorf("its inclusion proof: %v", err)
	}
	fmt.Printf("receipt: its entry is leaf %d of its checkpoint of %d entries\n", *log.Index, signed.N)
	if err := checkGrew(signed, tree, hashes); err != nil {
		return err
	}
	fmt.Printf("receipt: the site's tree of %d entries extends its checkpoint\n", tree.N)
	return nil
}

// tileReader fetches tiles from the site. Go names them tile/8/L/N[.p/W]; C2SP tlog-tiles,
// which the site serves, has no height element: tile/L/N[.p/W].
type tileReader struct {
	site string
}

func (r *tileReader) Height() int { return tileHeight }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, tile := range tiles {
		path := strings.Replace(tile.Path(), fmt.Sprintf("tile/%d/", tileHeight), "tile/", 1)
		body, err := get(r.site + "/consent-log/" + path)
		if err != nil {
			return nil, err
		}
		if len(body) != tile.W*tlog.HashSize {
			return nil, fmt.Errorf("%s: %d bytes, not %d hashes", path, len(body), tile.W)
		}
		data[i] = body
	}
	return data, nil
}

// SaveTiles is where a long-running client would cache tiles once they are authenticated.
func (r *tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

func get(url string) ([]byte, error) {
	response, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	body, err := io.ReadAll(io.LimitReader(response.Body, maxNote+1))
	if err != nil {
		return nil, err
	}
	if response.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, response.Status, strings.TrimSpace(string(body)))
	}
	if len(body) > maxNote {
		return nil, fmt.Errorf("GET %s: more than %d bytes", url, maxNote)
	}
	return body, nil
}
