package store

import (
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// FileExt is the extension of committed store files.
const FileExt = ".fkb"

// Repo is a repository of store files partitioned by sensor, flow type
// and hour (see the package documentation for the layout).
type Repo struct {
	root string
}

// OpenRepo opens the repository at root, creating the directory if needed.
func OpenRepo(root string) (*Repo, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return &Repo{root: root}, nil
}

// Root returns the repository directory.
func (r *Repo) Root() string { return r.root }

// Selection chooses files of a repository. Zero fields select everything.
type Selection struct {
	Start, End time.Time       // records starting in [Start, End); hours overlapping it
	Sensors    []uint16        // only these sensors
	Types      []flow.FlowType // only these flow types
}

// FileRef names one committed file of a repository.
type FileRef struct {
	Path   string
	Sensor uint16
	Type   flow.FlowType
	Hour   time.Time // the hour of the records' start times (UTC)
	Size   int64
}

// partitionDir returns the directory of a partition, relative to the root.
func partitionDir(sensor uint16, t flow.FlowType, hour time.Time) string {
	return filepath.Join("S"+strconv.Itoa(int(sensor)), t.String(),
		hour.Format("2006"), hour.Format("01"), hour.Format("02"), hour.Format("15"))
}

// Files lists the committed files that sel selects, ordered by hour,
// sensor, type and name. Temporary files of writers are never listed.
func (r *Repo) Files(sel Selection) ([]FileRef, error) {
	var refs []FileRef
	sensors, err := os.ReadDir(r.root)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	for _, sd := range sensors {
		name := sd.Name()
		if !sd.IsDir() || !strings.HasPrefix(name, "S") {
			continue
		}
		sid, err := strconv.ParseUint(name[1:], 10, 16)
		if err != nil {
			continue
		}
		if len(sel.Sensors) > 0 && !slices.Contains(sel.Sensors, uint16(sid)) {
			continue
		}
		types, err := os.ReadDir(filepath.Join(r.root, name))
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		for _, td := range types {
			ft, err := flow.ParseFlowType(td.Name())
			if err != nil || !td.IsDir() {
				continue
			}
			if len(sel.Types) > 0 && !slices.Contains(sel.Types, ft) {
				continue
			}
			base := filepath.Join(r.root, name, td.Name())
			err = filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(base, path)
				parts := strings.Split(rel, string(filepath.Separator))
				if d.IsDir() {
					if rel == "." {
						return nil
					}
					// prune hours outside the selection as early as the path allows
					if len(parts) == 4 {
						h, err := time.Parse("2006/01/02/15", strings.Join(parts, "/"))
						if err != nil {
							return fs.SkipDir
						}
						if !hourSelected(h, sel) {
							return fs.SkipDir
						}
					}
					return nil
				}
				if len(parts) != 5 || !strings.HasSuffix(d.Name(), FileExt) || strings.HasPrefix(d.Name(), ".") {
					return nil
				}
				h, err := time.Parse("2006/01/02/15", strings.Join(parts[:4], "/"))
				if err != nil {
					return nil
				}
				info, err := d.Info()
				if err != nil {
					return nil // removed meanwhile (retention)
				}
				refs = append(refs, FileRef{Path: path, Sensor: uint16(sid), Type: ft, Hour: h, Size: info.Size()})
				return nil
			})
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("store: %w", err)
			}
		}
	}
	slices.SortFunc(refs, func(a, b FileRef) int {
		if c := a.Hour.Compare(b.Hour); c != 0 {
			return c
		}
		if a.Sensor != b.Sensor {
			return int(a.Sensor) - int(b.Sensor)
		}
		if a.Type != b.Type {
			return int(a.Type) - int(b.Type)
		}
		return strings.Compare(a.Path, b.Path)
	})
	return refs, nil
}

func hourSelected(h time.Time, sel Selection) bool {
	if !sel.End.IsZero() && !h.Before(sel.End) {
		return false
	}
	if !sel.Start.IsZero() && !h.Add(time.Hour).After(sel.Start) {
		return false
	}
	return true
}

// Retain removes every hour partition that ends at or before cutoff and
// returns how many files it removed. Readers that have a file open keep
// reading it.
func (r *Repo) Retain(cutoff time.Time) (int, error) {
	refs, err := r.Files(Selection{End: cutoff})
	if err != nil {
		return 0, err
	}
	removed := 0
	dirs := map[string]bool{}
	for _, ref := range refs {
		if ref.Hour.Add(time.Hour).After(cutoff) {
			continue
		}
		if err := os.Remove(ref.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("store: retention: %w", err)
		}
		removed++
		dirs[filepath.Dir(ref.Path)] = true
	}
	// remove directories left empty, bottom up (os.Remove fails on non-empty ones)
	for d := range dirs {
		for p := d; len(p) > len(r.root); p = filepath.Dir(p) {
			if os.Remove(p) != nil {
				break
			}
		}
	}
	return removed, nil
}

// RemoveTemp deletes temporary files left by writers that crashed, if they
// are older than age (pass a generous age so as not to race a live writer).
func (r *Repo) RemoveTemp(age time.Duration) (int, error) {
	n := 0
	err := filepath.WalkDir(r.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(d.Name(), ".tmp") {
			return nil
		}
		if info, err := d.Info(); err == nil && time.Since(info.ModTime()) > age {
			if os.Remove(path) == nil {
				n++
			}
		}
		return nil
	})
	return n, err
}

// ScanFunc receives the decoded columns of one block of one file. It must
// not keep cols; it runs concurrently with itself.
type ScanFunc func(ref FileRef, f *File, block int, cols *Columns) error

// Scan decodes the columns of mask of every block of the selected files on
// workers goroutines (0 means GOMAXPROCS), in parallel over files and
// blocks, and calls fn for each. A damaged file or block is skipped and
// reported in the returned error (a join of [*CorruptError]s, so
// errors.Is(err, ErrCorrupt) holds) while everything else is still read;
// an error from fn stops the scan and is returned.
func (r *Repo) Scan(sel Selection, mask ColumnMask, workers int, fn ScanFunc) error {
	refs, err := r.Files(sel)
	if err != nil {
		return err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type task struct {
		ref   int
		f     *File
		block int
	}
	tasks := make(chan task, 4*workers)
	var mu sync.Mutex
	var corrupt []error
	var stopErr error
	var stop atomic.Bool
	report := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if errors.Is(err, ErrCorrupt) {
			corrupt = append(corrupt, err)
			return
		}
		if stopErr == nil {
			stopErr = err
		}
		stop.Store(true)
	}
	var wg sync.WaitGroup
	var open sync.WaitGroup // per file: blocks still being read
	fileWG := make([]sync.WaitGroup, len(refs))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cols := getColumns()
			defer columnsPool.Put(cols)
			for t := range tasks {
				if !stop.Load() {
					if err := t.f.ReadColumns(t.block, mask, cols); err != nil {
						report(err)
					} else if err := fn(refs[t.ref], t.f, t.block, cols); err != nil {
						report(err)
					}
				}
				fileWG[t.ref].Done()
			}
		}()
	}
	for i, ref := range refs {
		if stop.Load() {
			break
		}
		f, err := OpenFile(ref.Path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed by retention meanwhile
			}
			report(err)
			continue
		}
		fileWG[i].Add(f.NumBlocks())
		open.Add(1)
		go func() {
			fileWG[i].Wait()
			f.Close()
			open.Done()
		}()
		for b := 0; b < f.NumBlocks(); b++ {
			tasks <- task{i, f, b}
		}
	}
	close(tasks)
	wg.Wait()
	open.Wait()
	if stopErr != nil {
		return stopErr
	}
	return errors.Join(corrupt...)
}

// Records iterates over the records of the selected files in file order,
// filling the columns of mask and reusing one Record. Damaged files and
// blocks are skipped; their errors are joined into *errp (errp may be nil)
// and so is any other read error, which ends the iteration.
func (r *Repo) Records(sel Selection, mask ColumnMask, errp *error) iter.Seq[flow.Record] {
	return func(yield func(flow.Record) bool) {
		var errs []error
		defer func() {
			if errp != nil {
				*errp = errors.Join(errs...)
			}
		}()
		refs, err := r.Files(sel)
		if err != nil {
			errs = append(errs, err)
			return
		}
		cols := getColumns()
		defer columnsPool.Put(cols)
		var rec flow.Record
		for _, ref := range refs {
			f, err := OpenFile(ref.Path)
			if err != nil {
				if !errors.Is(err, fs.ErrNotExist) {
					errs = append(errs, err)
				}
				continue
			}
			for b := 0; b < f.NumBlocks(); b++ {
				if err := f.ReadColumns(b, mask, cols); err != nil {
					errs = append(errs, err)
					if !errors.Is(err, ErrCorrupt) {
						f.Close()
						return
					}
					continue
				}
				for i := 0; i < cols.Len; i++ {
					cols.Record(i, &rec)
					if !yield(rec) {
						f.Close()
						return
					}
				}
			}
			f.Close()
		}
	}
}
