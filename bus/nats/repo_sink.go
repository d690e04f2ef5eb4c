package nats

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/internal/durable"
	"github.com/flowkit/flowkit/store"
)

// ErrConflict reports a batch that another collector committed some
// message of first (the server redelivered it after AckWait while this
// collector still worked on it). The batch is discarded and redelivered.
var ErrConflict = errors.New("message committed by another collector")

// errLocked is lockFile's answer for a lock held elsewhere.
var errLocked = errors.New("locked")

// StateDir is the directory under a repository's root where RepoSinks keep
// their state, STATEDIR/STREAM/CONSUMER: readers of the repository look only
// at its S<sensor> directories.
const StateDir = ".nats"

// RepoSink stores a Consumer's batches in a store repository exactly once,
// however collectors sharing the durable consumer and the repository die.
//
// Each batch is written into a store repository of the collector's own
// (its stage, STATE/stage/ID) and flushed there. Its commit then takes the
// state directory's lock, writes a commit record naming the batch's
// messages and files (fsynced, then renamed into STATE/commits: the
// commit point), renames the files into the repository and releases the
// lock; only then are the messages acknowledged. A redelivered message
// that a commit record names is not written again: its record's files are
// renamed into place if a crash interrupted that, and it is acknowledged.
// A collector that dies before the commit point leaves only its stage,
// which the next RepoSink to start removes (its messages are redelivered);
// one that dies after it leaves a record that the next RepoSink to start,
// or the next collector given one of its messages, completes. Records
// whose messages are all below the durable consumer's acknowledgement
// floor can never be redelivered and are removed (Forget); the floor stays
// (STATE/commits/floor-SEQ), and a batch holding a message at or below it
// (a delivery held past AckWait while another collector stored the
// message) is refused like one holding a message a record names.
//
// It implements ExactSink. It is not safe for concurrent use; any number of
// processes may share a repository and a durable consumer.
type RepoSink struct {
	root    string // the repository
	state   string // root/.nats/STREAM/CONSUMER
	commits string // state/commits
	stageID string
	stage   string // state/stage/ID, a repository of its own
	wopts   store.WriterOptions
	w       *store.Writer
	lock    *os.File // state/lock, held around each commit
	owner   *os.File // stage/.owner, held while the sink lives
	floor   uint64   // the highest acknowledgement floor Forget was given, by any sink
	dirty   bool     // records written since the last commit
	err     error    // a commit half done: the sink stops
	n       int      // commit records written by this sink

	loaded  map[string][]string // commit record name -> its message keys
	keys    map[string]string   // message key -> commit record name
	applied map[string]bool     // records known to have their files in place
}

// OpenRepoSink opens the state of consumer (a Consumer's Incarnation) of
// stream in the repository at root (both created if missing), completes
// the commits that dead collectors left half done, removes their stages,
// and returns a sink storing with opts. It also removes the state of the
// earlier incarnations of the durable consumer (deleted and created
// again), once their commits are complete and no live collector uses
// them.
func OpenRepoSink(root, stream, consumer string, opts store.WriterOptions) (*RepoSink, error) {
	s, err := openRepoSink(root, stream, consumer, opts)
	if err != nil {
		return nil, err
	}
	if err := removeOldIncarnations(root, stream, consumer, opts); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func openRepoSink(root, stream, consumer string, opts store.WriterOptions) (*RepoSink, error) {
	for _, name := range []string{stream, consumer} {
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
			return nil, fmt.Errorf("nats: repository state for %q/%q: bad name", stream, consumer)
		}
	}
	state := filepath.Join(root, StateDir, stream, consumer)
	s := &RepoSink{root: root, state: state, commits: filepath.Join(state, "commits"), wopts: opts,
		loaded: map[string][]string{}, keys: map[string]string{}, applied: map[string]bool{}}
	for _, d := range []string{s.commits, filepath.Join(state, "stage")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("nats: %w", err)
		}
	}
	lock, err := os.OpenFile(filepath.Join(state, "lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	s.lock = lock
	if err := s.start(); err != nil {
		s.lock.Close()
		if s.owner != nil {
			s.owner.Close()
		}
		return nil, err
	}
	return s, nil
}

// start recovers, under the lock, what dead collectors left and creates
// this sink's stage (under the lock too, so that no one takes a stage
// being created for a dead one).
func (s *RepoSink) start() error {
	if err := lockFile(s.lock, true); err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	defer unlockFile(s.lock)
	if err := s.refresh(); err != nil {
		return err
	}
	for name := range s.loaded {
		if err := s.apply(name); err != nil {
			return err
		}
	}
	if err := s.removeDeadStages(); err != nil {
		return err
	}
	s.stageID = strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.Itoa(os.Getpid())
	s.stage = filepath.Join(s.state, "stage", s.stageID)
	if err := os.MkdirAll(s.stage, 0o755); err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	owner, err := os.OpenFile(filepath.Join(s.stage, ".owner"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	s.owner = owner
	if err := lockFile(owner, false); err != nil {
		return fmt.Errorf("nats: stage %s: %w", s.stage, err)
	}
	return s.newWriter()
}

// removeOldIncarnations removes the state directories of the
// incarnations of consumer's durable consumer created before it
// (DURABLE.CREATED, see Consumer.Incarnation): the server has deleted
// them, so their messages are never delivered again. Each is opened
// first, which completes the commits dead collectors left half done (their
// files go into the repository); one that a live collector still holds (a
// stage whose owner lock is taken) is left alone.
func removeOldIncarnations(root, stream, consumer string, opts store.WriterOptions) error {
	durable, created, ok := splitIncarnation(consumer)
	if !ok {
		return nil
	}
	dir := filepath.Join(root, StateDir, stream)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	for _, e := range ents {
		d, c, ok := splitIncarnation(e.Name())
		if !ok || d != durable || c >= created || !e.IsDir() {
			continue
		}
		old, err := openRepoSink(root, stream, e.Name(), opts)
		if err != nil {
			return err
		}
		err = old.removeState()
		old.Close() // its stage is gone with the state, or removed now
		if err != nil {
			return err
		}
	}
	return nil
}

// removeState removes the sink's whole state directory, under its lock,
// unless another collector's stage is live there.
func (s *RepoSink) removeState() error {
	if err := lockFile(s.lock, true); err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	defer unlockFile(s.lock)
	if err := s.removeDeadStages(); err != nil {
		return err
	}
	stages, err := os.ReadDir(filepath.Join(s.state, "stage"))
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	for _, e := range stages {
		if e.Name() != s.stageID {
			return nil // a live collector's
		}
	}
	if err := os.RemoveAll(s.state); err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	return nil
}

// splitIncarnation splits DURABLE.CREATED (CREATED in base 36).
func splitIncarnation(name string) (durable string, created int64, ok bool) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 {
		return "", 0, false
	}
	created, err := strconv.ParseInt(name[i+1:], 36, 64)
	if err != nil {
		return "", 0, false
	}
	return name[:i], created, true
}

func (s *RepoSink) newWriter() error {
	repo, err := store.OpenRepo(s.stage)
	if err != nil {
		return err
	}
	s.w = repo.NewWriter(s.wopts)
	return nil
}

// removeDeadStages removes the stages whose owner lock is free: their
// collectors died, and every file a commit record names has been renamed
// out (start applies all records first), so what is left was never
// committed.
func (s *RepoSink) removeDeadStages() error {
	dir := filepath.Join(s.state, "stage")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		f, err := os.OpenFile(filepath.Join(p, ".owner"), os.O_RDWR, 0)
		if err == nil {
			err = lockFile(f, false)
			f.Close() // releases the lock taken just now
			if errors.Is(err, errLocked) {
				continue // a live collector's
			}
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("nats: stage %s: %w", p, err)
		}
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("nats: %w", err)
		}
	}
	return nil
}

// floorPrefix starts the name of the empty file in the commits directory
// whose name holds the acknowledgement floor: floor-SEQ (20 digits).
const floorPrefix = "floor-"

// refresh loads the commit records written since the last refresh and
// forgets those removed since, and reads the floor.
func (s *RepoSink) refresh() error {
	ents, err := os.ReadDir(s.commits)
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	present := make(map[string]bool, len(ents))
	for _, e := range ents {
		name := e.Name()
		if f, ok := strings.CutPrefix(name, floorPrefix); ok {
			if n, err := strconv.ParseUint(f, 10, 64); err == nil {
				s.floor = max(s.floor, n)
			}
			continue
		}
		if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, commitExt) {
			continue
		}
		present[name] = true
		if _, ok := s.loaded[name]; ok {
			continue
		}
		r, err := readCommitRecord(filepath.Join(s.commits, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue // forgotten by another collector meanwhile
		}
		if err != nil {
			return fmt.Errorf("nats: %w", err)
		}
		s.remember(name, r)
	}
	for name := range s.loaded {
		if !present[name] {
			s.forget(name)
		}
	}
	return nil
}

func (s *RepoSink) remember(name string, r *commitRecord) {
	keys := make([]string, len(r.msgs))
	for i, m := range r.msgs {
		keys[i] = m.Key
		s.keys[m.Key] = name
	}
	s.loaded[name] = keys
}

func (s *RepoSink) forget(name string) {
	for _, k := range s.loaded[name] {
		if s.keys[k] == name {
			delete(s.keys, k)
		}
	}
	delete(s.loaded, name)
	delete(s.applied, name)
}

// apply renames the files of commit record name from their stage into the
// repository, those not moved yet, and fsyncs the directories. The caller
// holds the lock.
func (s *RepoSink) apply(name string) error {
	if s.applied[name] {
		return nil
	}
	r, err := readCommitRecord(filepath.Join(s.commits, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // forgotten: acknowledged, so applied long ago
	}
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	if err := s.move(filepath.Join(s.state, "stage", r.stage), r.files); err != nil {
		return err
	}
	s.applied[name] = true
	return nil
}

// move renames files (relative paths) from stage into the repository. A
// file missing from the stage was moved before. The directories given
// files are not fsynced
// here: until Forget (which fsyncs them) removes the commit record, a
// rename that a power failure undid is done again by the next RepoSink to
// start.
func (s *RepoSink) move(stage string, files []string) error {
	for _, f := range files {
		dst := filepath.Join(s.root, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("nats: %w", err)
		}
		err := os.Rename(filepath.Join(stage, f), dst)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("nats: committing %s: %w", dst, err)
		}
	}
	return nil
}

// pruneStage removes the stage's empty directories (Forget calls it), so
// that the walk of each commit stays short. Removing them at every commit
// cost more: the next batch made them again.
func (s *RepoSink) pruneStage() {
	var dirs []string
	filepath.WalkDir(s.stage, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && path != s.stage {
			dirs = append(dirs, path)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- { // children first
		os.Remove(dirs[i]) // fails, as it should, on a directory in use
	}
}

// syncDir is durable.SyncDir with this package's error prefix.
func syncDir(dir string) error {
	if err := durable.SyncDir(dir); err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	return nil
}

// Seen implements ExactSink: whether a commit record names m. For a
// redelivered message not named by the records known, the records are
// read again: another collector may have committed it.
func (s *RepoSink) Seen(m MsgRef) (bool, error) {
	if s.err != nil {
		return false, s.err
	}
	if _, ok := s.keys[m.Key]; ok || !m.Redelivered {
		return ok, nil
	}
	if err := s.refresh(); err != nil {
		return false, err
	}
	_, ok := s.keys[m.Key]
	return ok, nil
}

// WriteBatch implements flow.Sink: the records go to this collector's
// stage until CommitMessages.
func (s *RepoSink) WriteBatch(recs []flow.Record) error {
	if s.err != nil {
		return s.err
	}
	s.dirty = true
	return s.w.WriteBatch(recs)
}

// CommitMessages implements ExactSink. It returns an error wrapping
// ErrConflict, having discarded the batch, if another collector committed
// one of written first; after any other error before the commit point the
// batch is discarded too, and after one past it the sink stops (the next
// RepoSink to start, or to see the messages again, completes the commit).
func (s *RepoSink) CommitMessages(written, seen []MsgRef) error {
	if s.err != nil {
		return s.err
	}
	var files []string
	if s.dirty {
		var err error
		if err = s.w.Flush(); err == nil {
			files, err = s.staged()
		}
		if err != nil {
			s.discard()
			return err
		}
	}
	if err := lockFile(s.lock, true); err != nil {
		s.discard()
		return fmt.Errorf("nats: %w", err)
	}
	defer unlockFile(s.lock)
	if err := s.refresh(); err != nil {
		s.discard()
		return err
	}
	for _, m := range written {
		if name, ok := s.keys[m.Key]; ok {
			s.discard()
			return fmt.Errorf("nats: message %s (stream sequence %d) is in %s: %w", m.Key, m.Seq, name, ErrConflict)
		}
		// Acknowledged (by a collector that got it after this one's
		// AckWait ran out), and its record maybe forgotten already.
		if m.Seq != 0 && m.Seq <= s.floor {
			s.discard()
			return fmt.Errorf("nats: message %s (stream sequence %d) is below the acknowledgement floor %d: %w", m.Key, m.Seq, s.floor, ErrConflict)
		}
	}
	for _, m := range seen {
		if name, ok := s.keys[m.Key]; ok {
			if err := s.apply(name); err != nil {
				s.err = err
				return err
			}
		}
	}
	s.dirty = false
	if len(files) == 0 {
		return nil // no records: nothing a redelivery could store twice
	}
	r := &commitRecord{stage: s.stageID, msgs: written, files: files}
	s.n++
	name := r.name(s.n)
	renamed, err := s.writeRecord(name, r)
	if !renamed {
		s.discardFiles(files)
		return err
	}
	// Committed: from here on a failure must not discard the files.
	s.remember(name, r)
	if err == nil {
		err = s.move(s.stage, files)
	}
	if err != nil {
		s.err = err
		return err
	}
	s.applied[name] = true
	return nil
}

// writeRecord writes r as commits/name: a hidden temporary file, fsync,
// rename, fsync of the directory. Once renamed the record may be read by
// any collector, so it says whether it got there: if so the batch is
// committed whatever the error.
func (s *RepoSink) writeRecord(name string, r *commitRecord) (renamed bool, _ error) {
	tmp := filepath.Join(s.commits, "."+name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return false, fmt.Errorf("nats: %w", err)
	}
	_, err = f.Write(r.marshal())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.commits, name))
	}
	if err != nil {
		os.Remove(tmp)
		return false, fmt.Errorf("nats: commit record %s: %w", name, err)
	}
	return true, syncDir(s.commits)
}

// staged lists the store files in the stage, relative to it.
func (s *RepoSink) staged() ([]string, error) {
	var files []string
	err := filepath.WalkDir(s.stage, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), store.FileExt) && !strings.HasPrefix(d.Name(), ".") {
			rel, err := filepath.Rel(s.stage, path)
			if err != nil {
				return err
			}
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("nats: stage: %w", err)
	}
	return files, nil
}

// discard drops what was written since the last commit: the writer's
// temporary files and the stage's store files, none of which a commit
// record names. The messages are redelivered.
func (s *RepoSink) discard() {
	s.dirty = false
	s.w.Close() // flushes into the stage if it has no error, removes its temporaries if it has
	if files, err := s.staged(); err == nil {
		s.discardFiles(files)
	}
	if err := s.newWriter(); err != nil {
		s.err = err
	}
}

func (s *RepoSink) discardFiles(files []string) {
	for _, f := range files {
		os.Remove(filepath.Join(s.stage, f))
	}
}

// Forget implements ExactSink: it removes the commit records whose
// messages all have stream sequences at or below floor, after fsyncing
// the directories their files were renamed into. First it records the
// floor (durably) for every sink: a collector that held one of those
// messages past AckWait, while another stored and acknowledged it, must
// find out at its commit although the record is gone.
func (s *RepoSink) Forget(floor uint64) error {
	if err := lockFile(s.lock, true); err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	defer unlockFile(s.lock)
	if err := s.refresh(); err != nil {
		return err
	}
	if floor > s.floor {
		if err := s.setFloor(floor); err != nil {
			return err
		}
	}
	floor = s.floor
	ents, err := os.ReadDir(s.commits)
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	var names []string
	dirs := map[string]bool{}
	for _, e := range ents {
		seq, ok := nameSeq(e.Name())
		if !ok || seq > floor {
			continue
		}
		r, err := readCommitRecord(filepath.Join(s.commits, e.Name()))
		if err != nil {
			return fmt.Errorf("nats: %w", err)
		}
		for _, f := range r.files {
			dirs[filepath.Dir(filepath.Join(s.root, f))] = true
		}
		names = append(names, e.Name())
	}
	for d := range dirs {
		// A directory gone is one retention removed.
		if err := syncDir(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	for _, name := range names {
		if err := os.Remove(filepath.Join(s.commits, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("nats: %w", err)
		}
		s.forget(name)
	}
	s.pruneStage()
	return nil
}

// setFloor replaces the floor file by one naming floor, durably before
// any record below it is removed. The caller holds the lock.
func (s *RepoSink) setFloor(floor uint64) error {
	name := filepath.Join(s.commits, fmt.Sprintf("%s%020d", floorPrefix, floor))
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	f.Close()
	if err := syncDir(s.commits); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(s.commits, floorPrefix+"*"))
	for _, o := range old {
		if o != name {
			os.Remove(o)
		}
	}
	s.floor = floor
	return nil
}

// Close discards what was not committed (its messages are redelivered),
// removes the stage unless a commit was left half done, and releases the
// stage.
func (s *RepoSink) Close() error {
	if s.dirty {
		s.discard()
	}
	s.w.Close()
	err := s.err
	if err == nil {
		if rerr := os.RemoveAll(s.stage); rerr != nil {
			err = fmt.Errorf("nats: %w", rerr)
		}
	}
	s.owner.Close()
	s.lock.Close()
	return err
}
